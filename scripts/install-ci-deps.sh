#!/usr/bin/env bash
# Installs what the editor tests need on a fresh Debian 12 machine: chromium (Playwright's
# browser), libkrb5-dev + ripgrep (for code-server's postinstall), and code-server 4.100.3
# in a cache folder outside package.json. Idempotent: a second run only checks.
#   --editor   only what `npm start` needs (no chromium)
# apt-get needs root: run as root, or with sudo available (it may ask for a password).
# Downloads: code-server and its dependencies ~300 MB (npm), chromium ~100 MB (apt).
set -euo pipefail
# linux-source-6.1/6.12: real kernel sources the race-4 unit test reads (test/unit/debian-nfqueue.test.ts).
# The test plan stage (scripts/testplan-ci.mjs): kernel build tools, qemu, the guest's binaries.
TESTPLAN_PKGS=(gcc make flex bison bc libelf-dev libssl-dev cpio e2fsprogs qemu-system-x86 busybox-static iproute2 iptables)
APT_PKGS=(chromium libkrb5-dev ripgrep linux-source-6.1 linux-source-6.12 "${TESTPLAN_PKGS[@]}")
[ "${1:-}" = "--editor" ] && APT_PKGS=(libkrb5-dev ripgrep)

CS_VERSION=4.100.3
CACHE="${CONNTRACK_CACHE:-$HOME/.cache/conntrack-backport}"
CS_DIR="$CACHE/code-server-$CS_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
log() { echo "install-ci-deps: $*"; }
# code-server writes a default config.yaml on any run: keep that out of the user's ~/.config.
cs() { XDG_CONFIG_HOME="$CACHE/xdg-config" "$CS_BIN" "$@"; }

# --- apt ---------------------------------------------------------------------------------
missing=()
for pkg in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    log "needs ${missing[*]} and this machine has no apt-get: install them with its package manager, then run this again"
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      log "needs root to install ${missing[*]} and sudo is not installed; as root run:"
      log "  apt-get update && apt-get install -y ${missing[*]}"
      log "then run this again"
      exit 1
    fi
    SUDO="sudo"
    sudo -n true 2>/dev/null || log "apt-get needs root: sudo may ask for your password"
  fi
  log "apt-get install ${missing[*]} (needs root; chromium is ~100 MB)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- code-server -------------------------------------------------------------------------
if [ -f "$CS_DIR/.installed-ok" ] && cs --version >/dev/null 2>&1; then
  log "code-server $CS_VERSION already in $CS_DIR"
  exit 0
fi

# @vscode/ripgrep downloads rg from GitHub (unreachable); it accepts a pre-seeded cache
# tarball, so hand it Debian's rg under the file name it looks for.
RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
RG_TGZ="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$RG_TGZ" ]; then
  mkdir -p "$RG_CACHE"
  tmp=$(mktemp -d); cp "$(command -v rg)" "$tmp/rg"
  tar -czf "$RG_TGZ" -C "$tmp" rg; rm -rf "$tmp"
fi

# Native modules (argon2, node-pty, kerberos) build with node-gyp, which otherwise downloads
# node's headers from nodejs.org; use the headers installed beside node when they are there.
NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$NODE_PREFIX/include/node/common.gypi" ]; then
  export npm_config_nodedir="$NODE_PREFIX"
fi

rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
cat >"$CS_DIR/package.json" <<EOF
{ "name": "code-server-cache", "private": true, "dependencies": { "code-server": "$CS_VERSION" } }
EOF
log "npm install code-server@$CS_VERSION into $CS_DIR (~300 MB download, a few minutes, once)"
# npm 11 skips dependency install scripts unless approved, and code-server's postinstall
# runs nested `npm install`s (no package.json of ours to approve them in), so allow them
# through the environment, which the nested npm processes inherit. node-pty's postinstall
# calls npx, which must not prompt (the machine's npmrc says yes=false).
(
  cd "$CS_DIR"
  export npm_config_yes=true npm_config_dangerously_allow_all_scripts=true
  export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
  npm install --unsafe-perm --no-package-lock --foreground-scripts >"$CS_DIR/install.log" 2>&1
) &
npm_pid=$!
# Progress while npm works: elapsed time and how much is on disk so far.
t_start=$SECONDS
while kill -0 "$npm_pid" 2>/dev/null; do
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do kill -0 "$npm_pid" 2>/dev/null && sleep 1; done
  kill -0 "$npm_pid" 2>/dev/null || break
  log "  ... $((SECONDS - t_start)) s, $(du -sm "$CS_DIR" 2>/dev/null | cut -f1) MB in $CS_DIR (log: $CS_DIR/install.log)"
done
wait "$npm_pid" || { tail -40 "$CS_DIR/install.log"; log "code-server install failed (full log: $CS_DIR/install.log)"; exit 1; }

# The postinstall must have produced VS Code's server dependencies; without them
# code-server starts but the workbench fails, so check rather than trust the exit code.
for f in lib/vscode/node_modules/@vscode/ripgrep/bin/rg lib/vscode/node_modules/node-pty; do
  [ -e "$CS_DIR/node_modules/code-server/$f" ] || { log "postinstall did not produce $f"; exit 1; }
done
cs --version >"$CS_DIR/version.txt" 2>&1 || { cat "$CS_DIR/version.txt"; log "code-server does not run"; exit 1; }
touch "$CS_DIR/.installed-ok"
log "code-server ready: $CS_BIN ($(grep -o '^[0-9][^ ]*' "$CS_DIR/version.txt" | head -1))"

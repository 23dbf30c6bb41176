#!/usr/bin/env bash
# Installs what the editor tests need on a fresh Debian 12 machine: chromium (Playwright's
# browser), libkrb5-dev + ripgrep (for code-server's postinstall), and code-server 4.100.3
# in a cache folder outside package.json. Idempotent: a second run only checks.
set -euo pipefail

CS_VERSION=4.100.3
CACHE="${CONNTRACK_CACHE:-$HOME/.cache/conntrack-backport}"
CS_DIR="$CACHE/code-server-$CS_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
log() { echo "install-ci-deps: $*"; }
# code-server writes a default config.yaml on any run: keep that out of the user's ~/.config.
cs() { XDG_CONFIG_HOME="$CACHE/xdg-config" "$CS_BIN" "$@"; }

# --- apt ---------------------------------------------------------------------------------
missing=()
# The test plan stage (scripts/testplan-ci.mjs): kernel build tools, qemu, the guest's binaries, a real tree.
TESTPLAN_PKGS="gcc make flex bison bc libelf-dev libssl-dev cpio e2fsprogs qemu-system-x86 busybox-static iproute2 iptables linux-source-6.1"
for pkg in chromium libkrb5-dev ripgrep $TESTPLAN_PKGS; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install ${missing[*]}"
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

rm -rf "$CS_DIR"; mkdir -p "$CS_DIR"
cat >"$CS_DIR/package.json" <<EOF
{ "name": "code-server-cache", "private": true, "dependencies": { "code-server": "$CS_VERSION" } }
EOF
log "npm install code-server@$CS_VERSION into $CS_DIR (about a minute)"
# npm 11 skips dependency install scripts unless approved, and code-server's postinstall
# runs nested `npm install`s (no package.json of ours to approve them in), so allow them
# through the environment, which the nested npm processes inherit. node-pty's postinstall
# calls npx, which must not prompt (the machine's npmrc says yes=false).
(
  cd "$CS_DIR"
  export npm_config_yes=true npm_config_dangerously_allow_all_scripts=true
  export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
  npm install --unsafe-perm --no-package-lock --foreground-scripts >"$CS_DIR/install.log" 2>&1
) || { tail -40 "$CS_DIR/install.log"; log "code-server install failed"; exit 1; }

# The postinstall must have produced VS Code's server dependencies; without them
# code-server starts but the workbench fails, so check rather than trust the exit code.
for f in lib/vscode/node_modules/@vscode/ripgrep/bin/rg lib/vscode/node_modules/node-pty; do
  [ -e "$CS_DIR/node_modules/code-server/$f" ] || { log "postinstall did not produce $f"; exit 1; }
done
cs --version
touch "$CS_DIR/.installed-ok"
log "code-server ready: $CS_BIN"

// Starts and stops a throw-away code-server (VS Code 1.100.3 in the browser) for tests.
// Installed by scripts/install-ci-deps.sh into a cache folder; see docs/toolchain.md.
// Run directly to open a folder by hand: node scripts/code-server.mjs [folder] [x.vsix]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';

/** Where scripts/install-ci-deps.sh puts code-server (whether or not it is there yet). */
export function codeServerPath() {
  const cache = process.env.CONNTRACK_CACHE ?? path.join(os.homedir(), '.cache/conntrack-backport');
  return path.join(cache, `code-server-${CODE_SERVER_VERSION}/node_modules/.bin/code-server`);
}

/** Installed and finished (the install script marks a complete install). */
export function codeServerInstalled() {
  const bin = codeServerPath();
  return existsSync(bin) && existsSync(path.join(bin, '../../../.installed-ok'));
}

export function codeServerBin() {
  const bin = codeServerPath();
  if (!existsSync(bin)) throw new Error(`code-server not found at ${bin}; run: bash scripts/install-ci-deps.sh`);
  return bin;
}

/** Private folders so nothing leaks from ~/.config or ~/.local into a run (or back). */
export function makeProfile(prefix = 'cb-cs-', { trust = false } = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  const dirs = { root, userData: path.join(root, 'user-data'), extensions: path.join(root, 'extensions') };
  for (const d of [dirs.userData, dirs.extensions, path.join(root, 'config'), path.join(root, 'data')]) mkdirSync(d, { recursive: true });
  // No welcome page over the editor in screenshots, no update checks against an unreachable gallery.
  mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(dirs.userData, 'User/settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'telemetry.telemetryLevel': 'off',
        'workbench.tips.enabled': false,
        // With trust on, open the folder untrusted without the modal question (Restricted Mode runs).
        ...(trust
          ? {
              'security.workspace.trust.enabled': true,
              'security.workspace.trust.startupPrompt': 'never',
              'security.workspace.trust.untrustedFiles': 'open',
            }
          : {}),
      },
      null,
      2,
    ),
  );
  dirs.trust = trust;
  // An empty gallery turns the marketplace off: otherwise the workbench asks open-vsx.org
  // about installed extensions and, offline, waits for DNS to fail (seconds, sometimes a
  // minute) before the extension host starts.
  dirs.env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: path.join(root, 'data'),
    EXTENSIONS_GALLERY: '{}',
  };
  return dirs;
}

export function installExtension(profile, vsix) {
  execFileSync(
    codeServerBin(),
    ['--extensions-dir', profile.extensions, '--user-data-dir', profile.userData, '--install-extension', vsix],
    { env: profile.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

export function listExtensions(profile) {
  return execFileSync(
    codeServerBin(),
    ['--extensions-dir', profile.extensions, '--user-data-dir', profile.userData, '--list-extensions', '--show-versions'],
    { env: profile.env, encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .filter(Boolean);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts code-server on a free port and resolves once /healthz answers.
 * Returns { url, port, authority, profile, stop() }.
 */
export async function startCodeServer({ folder, profile = makeProfile(), timeoutMs = 60_000, port: wanted } = {}) {
  const port = wanted ?? (await freePort());
  const logFile = path.join(profile.root, 'code-server.log');
  const out = openSync(logFile, 'a');
  const args = [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    profile.userData,
    '--extensions-dir',
    profile.extensions,
    '--disable-telemetry',
    '--disable-update-check',
  ];
  if (!profile.trust) args.push('--disable-workspace-trust');
  if (folder) args.push(folder);
  // detached = setsid(): code-server forks watchers and an extension host; killing the
  // whole process group is the only way to leave nothing behind.
  const child = spawn(codeServerBin(), args, { env: profile.env, detached: true, stdio: ['ignore', out, out] });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (!process.env.KEEP_PROFILE) rmSync(profile.root, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`code-server exited early:\n${readFileSync(logFile, 'utf8')}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server not ready after ${timeoutMs} ms`);
    }
    await sleep(200);
  }
  return { url, port, authority: `127.0.0.1:${port}`, profile, logFile, stop };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [folder = process.cwd(), vsix] = process.argv.slice(2);
  const profile = makeProfile();
  if (vsix) installExtension(profile, path.resolve(vsix));
  const cs = await startCodeServer({ folder: path.resolve(folder), profile });
  console.log(`code-server ${CODE_SERVER_VERSION} at ${cs.url}/?folder=${encodeURIComponent(path.resolve(folder))}  (Ctrl+C stops it)`);
  const quit = () => cs.stop().then(() => process.exit(0));
  process.on('SIGINT', quit).on('SIGTERM', quit);
}

// The newcomer path, end to end: clone this repository into a temp dir, give it an empty HOME
// (so an empty npm cache and no code-server in ~/.cache), run the README's set-up line exactly
// as written, and wait until the URL it prints answers with the workbench. Needs the network to
// the npm registry (and apt when packages are missing), so it runs in CI (.ci/run), not in
// `npm test`. Time-bound (FRESH_TIMEOUT_S, default 1500). Prints how long each part took.
//   node test/fresh/fresh-clone.mjs [--keep]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const timeoutS = Number(process.env.FRESH_TIMEOUT_S ?? 1500);
const keep = process.argv.includes('--keep');

// The set-up line: the first indented command under "## Set up and run".
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const section = /^## Set up and run\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
const line = /^ {4}(\S.*)$/m.exec(section)?.[1];
if (!line) {
  console.error('fresh-clone: no set-up line found under "## Set up and run" in README.md');
  process.exit(1);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ctb-fresh-'));
const home = path.join(tmp, 'home');
mkdirSync(home);
const clone = path.join(tmp, 'conntrack-backport');
execFileSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone], { stdio: 'inherit' });

const env = {
  ...process.env,
  HOME: home,
  XDG_CACHE_HOME: path.join(home, '.cache'),
  XDG_CONFIG_HOME: path.join(home, '.config'),
  npm_config_cache: path.join(home, '.npm'),
};
for (const k of ['CONNTRACK_CACHE', 'npm_config_prefix', 'npm_config_userconfig', 'CONNTRACK_PORT']) delete env[k];
for (const k of Object.keys(env)) if (k.startsWith('npm_') && k !== 'npm_config_cache') delete env[k];

console.log(`fresh-clone: ${clone}, HOME=${home}: running \`${line}\` (up to ${timeoutS} s)`);
const t0 = Date.now();
const child = spawn('bash', ['-c', line], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
let err = '';
let npmCiDone;
child.stdout.on('data', (d) => {
  out += d;
  process.stdout.write(d);
  if (npmCiDone === undefined && /^npm start: /m.test(out)) npmCiDone = Date.now();
});
child.stderr.on('data', (d) => {
  err += d;
  process.stderr.write(d);
});
let exited = null;
child.on('exit', (code, signal) => {
  exited = { code, signal };
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const failures = [];
let url;
let answered;
const deadline = t0 + timeoutS * 1000;
while (Date.now() < deadline && !exited) {
  url = /^open: (http\S+)$/m.exec(out)?.[1];
  if (url) {
    try {
      const r = await fetch(url);
      const body = await r.text();
      if (r.ok && /vscode|workbench/i.test(body)) {
        answered = Date.now();
        break;
      }
    } catch {
      /* not yet */
    }
  }
  await sleep(1000);
}
if (!url)
  failures.push(exited ? `the set-up line exited (${exited.code ?? exited.signal}) before printing a URL` : `no URL within ${timeoutS} s`);
else if (!answered) failures.push(`the URL ${url} did not answer with the workbench`);
if (/^\s+at .+:\d+:\d+\)?$/m.test(out + err)) failures.push('a stack trace was printed');
if (/[├└]──/.test(out)) failures.push("vsce's file list was printed");
if (url && out.trimEnd().split('\n').pop() !== `open: ${url}`) failures.push('the URL is not the last line printed');

try {
  process.kill(-child.pid, 'SIGTERM');
} catch {
  /* already gone */
}
for (let i = 0; i < 100 && !exited; i++) await sleep(100);
try {
  process.kill(-child.pid, 'SIGKILL');
} catch {
  /* already gone */
}
const secs = (t) => (t ? `${((t - t0) / 1000).toFixed(0)} s` : '-');
console.log(`\nfresh-clone: npm ci ${secs(npmCiDone)}; set-up line to a URL that answers ${secs(answered)}`);
for (const f of failures) console.log(`fresh-clone: FAIL: ${f}`);
console.log(`fresh-clone: ${failures.length ? 0 : 1} passed, ${failures.length ? 1 : 0} failed`);
if (keep) console.log(`fresh-clone: kept ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
process.exit(failures.length ? 1 : 0);

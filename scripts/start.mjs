// `npm start`: the extension on a demo kernel repository, in a local VS Code (code-server).
// Installs what is missing (node_modules, code-server into the cache via
// scripts/install-ci-deps.sh --editor), builds and packages the .vsix quietly, creates the demo
// repository with the project's fixture generator, installs the .vsix into a fresh profile,
// starts code-server on 127.0.0.1 and prints the URL last. Ctrl+C stops it and removes the
// profile; the demo repository stays.
//   node scripts/start.mjs [demo-dir] [--port N]      (or CONNTRACK_PORT=N)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (s) => console.log(`npm start: ${s}`);
const fail = (s) => {
  console.error(`npm start: ${s}`);
  process.exit(1);
};

/** Runs quietly; on failure shows what the command printed, then stops. */
function quiet(what, cmd, args) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    fail(`${what} failed (${cmd} ${args.join(' ')}, exit ${r.status ?? r.signal})`);
  }
  return r.stdout;
}

const argv = process.argv.slice(2);
const portArg = argv.indexOf('--port');
const port = Number(portArg >= 0 ? argv.splice(portArg, 2)[1] : process.env.CONNTRACK_PORT) || undefined;
const t0 = Date.now();

if (!existsSync(path.join(root, 'node_modules/.bin/tsc'))) {
  say('node_modules is missing: npm ci (once)');
  quiet('npm ci', 'npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
}

const cs = await import('./code-server.mjs');
if (!cs.codeServerInstalled()) {
  say(
    `code-server ${cs.CODE_SERVER_VERSION} is not installed yet: installing it into ${path.dirname(path.dirname(path.dirname(cs.codeServerPath())))} (once; ~300 MB download; apt packages libkrb5-dev and ripgrep need root)`,
  );
  const r = spawnSync('bash', [path.join(root, 'scripts/install-ci-deps.sh'), '--editor'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !cs.codeServerInstalled())
    fail('could not install code-server (see the lines above); once fixed, run npm start again');
}

say('building and packaging the extension');
quiet('build', 'npm', ['run', '--silent', 'build']);
// vsce lists every file it packs; keep that out of the way unless it fails.
quiet('packaging', 'npm', ['run', '--silent', 'vsix']);

const dir = argv[0] ?? mkdtempSync(path.join(os.tmpdir(), 'conntrack-demo-'));
say(`creating the demo kernel repository in ${dir}`);
let demo;
try {
  demo = JSON.parse(
    execFileSync(process.execPath, [path.join(root, 'dist/cli.js'), 'demo-repo', '--json', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
} catch (e) {
  fail(`demo-repo failed: ${String(e.stderr ?? e.message).trim()}`);
}

const profile = cs.makeProfile('conntrack-start-');
try {
  cs.installExtension(profile, path.join(root, 'conntrack-backport.vsix'));
} catch (e) {
  fail(
    `installing the .vsix into code-server failed: ${String(e.stderr ?? e.message)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' / ')}`,
  );
}
// The demo's upstream remote holds the fixes under ids of its own, as a mirror would.
const settings = path.join(profile.userData, 'User/settings.json');
writeFileSync(
  settings,
  JSON.stringify(
    {
      ...JSON.parse(readFileSync(settings, 'utf8')),
      'conntrackBackport.commitOverrides': demo.upstreamShas,
      'conntrackBackport.bugNumber': '1836816',
    },
    null,
    2,
  ),
);
let server;
try {
  server = await cs.startCodeServer({ folder: demo.tree, profile, port });
} catch (e) {
  fail(`code-server did not start: ${String(e.message).trim().split('\n').slice(-3).join(' / ')}`);
}
const url = `${server.url}/?folder=${encodeURIComponent(demo.tree)}`;
console.log(`
conntrack-backport demo (ready in ${((Date.now() - t0) / 1000).toFixed(0)} s)
  kernel tree:  ${demo.tree}  (bionic-like base + azure 937963/952939, remote '${demo.remote}')
  in the editor: open net/netfilter/nf_conntrack_core.c: lenses above nf_ct_resolve_clash and
  nf_conntrack_tuple_taken; F1 "Conntrack Backport: …" for the plan, the simulation, the matrix.
  CLI on the same tree: ${demo.planCommand}
  Ctrl+C stops code-server (the demo repository stays).
  On a remote build box, forward the port first, from your own machine:
    ssh -N -L ${server.port}:127.0.0.1:${server.port} <user>@<build-box>
    (then the same URL works in your local browser)

open: ${url}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);

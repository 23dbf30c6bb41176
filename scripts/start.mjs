// `npm start`: the extension on a demo kernel repository, in a local VS Code (code-server).
// Builds and packages the .vsix, creates the demo repository with the project's fixture
// generator (bionic-like base, the two azure commits, an `upstream` remote holding the two
// upstream fixes), installs the .vsix into a fresh profile, starts code-server on 127.0.0.1
// and prints the URL. Ctrl+C stops it and removes the profile; the demo repository stays.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

const cs = await import('./code-server.mjs');
if (!existsSync(cs.codeServerBin())) {
  console.log('code-server is not installed yet: running scripts/install-ci-deps.sh (about a minute, once)');
  run('bash', ['scripts/install-ci-deps.sh']);
}
run('npm', ['run', '--silent', 'package']);

const dir = process.argv[2] ?? mkdtempSync(path.join(os.tmpdir(), 'conntrack-demo-'));
const demo = JSON.parse(execFileSync(process.execPath, [path.join(root, 'dist/cli.js'), 'demo-repo', '--json', dir], { encoding: 'utf8' }));

const profile = cs.makeProfile('conntrack-start-');
cs.installExtension(profile, path.join(root, 'conntrack-backport.vsix'));
// The demo's upstream remote holds the fixes under ids of its own, as a mirror would.
const settings = path.join(profile.userData, 'User/settings.json');
writeFileSync(settings, JSON.stringify({
  ...JSON.parse(readFileSync(settings, 'utf8')),
  'conntrackBackport.commitOverrides': demo.upstreamShas,
  'conntrackBackport.bugNumber': '1836816',
}, null, 2));
const server = await cs.startCodeServer({ folder: demo.tree, profile });
console.log(`
conntrack-backport demo
  kernel tree:  ${demo.tree}  (bionic-like base + azure 937963/952939, remote '${demo.remote}')
  open:         ${server.url}/?folder=${encodeURIComponent(demo.tree)}
  then open net/netfilter/nf_conntrack_core.c: lenses above nf_ct_resolve_clash and
  nf_conntrack_tuple_taken; F1 "Conntrack Backport: …" for the plan, the simulation, the matrix.
  CLI on the same tree: ${demo.planCommand}
Ctrl+C to stop.`);
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);

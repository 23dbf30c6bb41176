// Activation bench in a real editor: the packaged .vsix size, and activate() timings of the
// extension read from its own performance.now() marks inside code-server's extension host,
// beside an empty extension activated by the same event in the same host (the baseline).
// Needs: npm run package (run through `npm run bench:activation`). Prints medians of RUNS runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installExtension, makeProfile } from '../scripts/code-server.mjs';
import { runInExtensionHost } from '../scripts/ext-host-test.mjs';
import { makeDemoWorkspace } from '../test/support/workspace.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.RUNS ?? 3);
const VSIX_LIMIT_KB = 2048;
const ACTIVATE_LIMIT_MS = 100;

function packBaseline() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-baseline-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name: 'baseline', publisher: 'conntrack-bench', version: '0.0.1', license: 'MIT', main: 'extension.js',
    engines: { vscode: '^1.100.0' }, activationEvents: ['workspaceContains:net/netfilter/nf_conntrack_core.c'],
  }));
  writeFileSync(path.join(dir, 'LICENSE'), 'MIT\n');
  writeFileSync(path.join(dir, 'extension.js'), `const vscode = require('vscode');
const marks = { 'module:loaded': performance.now() };
exports.activate = (context) => {
  marks['activate:start'] = performance.now();
  context.subscriptions.push(vscode.commands.registerCommand('conntrackBench.baseline.timings', () => marks));
  marks['activate:end'] = performance.now();
};\n`);
  execFileSync('node', [path.join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '-o', 'baseline.vsix'], { cwd: dir, stdio: 'ignore' });
  return path.join(dir, 'baseline.vsix');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const activateMs = (m) => m['activate:end'] - m['activate:start'];
const ms = (x) => `${x.toFixed(2)} ms`;

const vsixKb = statSync(path.join(root, 'conntrack-backport.vsix')).size / 1024;
const baselineVsix = packBaseline();
const samples = [];
for (let i = 0; i < RUNS; i++) {
  const profile = makeProfile('cb-bench-');
  installExtension(profile, baselineVsix);
  // The demo workspace of `npm start`: a bionic-like git tree with the azure commits.
  const demo = await makeDemoWorkspace();
  const folder = demo.folder;
  const r = await runInExtensionHost({ folder, profile, echo: false, testsPath: path.join(root, 'bench/activation.host.cjs') });
  rmSync(demo.root, { recursive: true, force: true });
  const line = r.lines.find((l) => l.startsWith('BENCH '));
  if (r.code !== 0 || !line) { console.error(r.lines.join('\n')); throw new Error(`bench run ${i + 1} failed`); }
  samples.push(JSON.parse(line.slice(6)));
}
rmSync(path.dirname(baselineVsix), { recursive: true, force: true });
const ours = median(samples.map((s) => activateMs(s.ours)));
const base = median(samples.map((s) => activateMs(s.baseline)));
const lens = median(samples.map((s) => s.lensMs));
console.log(`vsix size           ${vsixKb.toFixed(0)} KB (target <= ${VSIX_LIMIT_KB} KB) ${vsixKb <= VSIX_LIMIT_KB ? 'ok' : 'OVER'}`);
console.log(`activate()          ${ms(ours)} (empty extension: ${ms(base)}; target <= ${ACTIVATE_LIMIT_MS} ms) ${ours <= ACTIVATE_LIMIT_MS ? 'ok' : 'OVER'}`);
// From activate() start to the first lenses computed on the demo tree. This includes the time
// the test host itself takes to open the file after activation (it asks as soon as it can).
if (samples.every((s) => s.after?.['lenses:first'])) {
  console.log(`activate → lenses   ${ms(median(samples.map((s) => s.after['lenses:first'] - s.after['activate:start'])))} (wall time on the demo workspace, first parse and wasm load included)`);
}
console.log(`first lens request  ${ms(lens)} (${samples[0].lensCount} lenses on the core file)`);
console.log(`(median of ${RUNS} code-server runs; marks of the last run: ${JSON.stringify(samples.at(-1).ours)})`);

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
import { debianTree61 } from '../test/support/linuxSource.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.RUNS ?? 3);
const VSIX_LIMIT_KB = 2048;
const ACTIVATE_LIMIT_MS = 100;

function packBaseline() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-baseline-'));
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'baseline',
      publisher: 'conntrack-bench',
      version: '0.0.1',
      license: 'MIT',
      main: 'extension.js',
      engines: { vscode: '^1.100.0' },
      activationEvents: ['workspaceContains:net/netfilter/nf_conntrack_core.c'],
    }),
  );
  writeFileSync(path.join(dir, 'LICENSE'), 'MIT\n');
  writeFileSync(
    path.join(dir, 'extension.js'),
    `const vscode = require('vscode');
const marks = { 'module:loaded': performance.now() };
exports.activate = (context) => {
  marks['activate:start'] = performance.now();
  context.subscriptions.push(vscode.commands.registerCommand('conntrackBench.baseline.timings', () => marks));
  marks['activate:end'] = performance.now();
};\n`,
  );
  execFileSync(
    'node',
    [
      path.join(root, 'node_modules/@vscode/vsce/vsce'),
      'package',
      '--no-dependencies',
      '--allow-missing-repository',
      '-o',
      'baseline.vsix',
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  return path.join(dir, 'baseline.vsix');
}


const vsixKb = statSync(path.join(root, 'conntrack-backport.vsix')).size / 1024;
const baselineVsix = packBaseline();

// The demo workspace of `npm start` (a bionic-like git tree with the azure commits) and a real,
// full-sized tree (Debian's linux-source-6.1, 78k files, extracted once outside the repository).
const workspaces = [
  {
    name: 'demo tree',
    open: async () => {
      const d = await makeDemoWorkspace();
      return { folder: d.folder, done: () => rmSync(d.root, { recursive: true, force: true }) };
    },
  },
];
try {
  const tree = await debianTree61({ log: (m) => console.log(m) });
  workspaces.push({ name: 'Debian 6.1 tree', open: async () => ({ folder: tree, done: () => {} }) });
} catch (err) {
  console.log(`real tree: not measured (${err.message})`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const activateMs = (m) => m['activate:end'] - m['activate:start'];
const ms = (x) => `${x.toFixed(1)} ms`;

const results = [];
for (const ws of workspaces) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const profile = makeProfile('cb-bench-');
    installExtension(profile, baselineVsix);
    const { folder, done } = await ws.open();
    const r = await runInExtensionHost({
      folder,
      profile,
      echo: false,
      timeoutMs: 300_000,
      testsPath: path.join(root, 'bench/activation.host.cjs'),
    });
    done();
    rmSync(profile.root ?? '', { recursive: true, force: true });
    const line = r.lines.find((l) => l.startsWith('BENCH '));
    if (r.code !== 0 || !line) {
      console.error(r.lines.join('\n'));
      throw new Error(`bench run ${i + 1} on the ${ws.name} failed`);
    }
    samples.push(JSON.parse(line.slice(6)));
  }
  results.push({ ws, samples });
}
rmSync(path.dirname(baselineVsix), { recursive: true, force: true });

console.log(`vsix size               ${vsixKb.toFixed(0)} KB (target <= ${VSIX_LIMIT_KB} KB) ${vsixKb <= VSIX_LIMIT_KB ? 'ok' : 'OVER'}`);
console.log(`median of ${RUNS} code-server runs per workspace; baseline: an empty extension activated by the same event in the same host`);
const rows = [['', ...results.map((r) => r.ws.name)]];
const row = (label, f) => rows.push([label, ...results.map((r) => f(r.samples))]);
row('file lines', (s) => String(s[0].lines));
row('activate() ours', (s) => ms(median(s.map((x) => activateMs(x.ours)))));
row('activate() empty ext.', (s) => ms(median(s.map((x) => activateMs(x.baseline)))));
row('commands registered', (s) => `${s[0].commands - s[0].missingCommands.length}/${s[0].commands} at activation`);
row('activate → lenses', (s) =>
  s.every((x) => x.after?.['lenses:first']) ? ms(median(s.map((x) => x.after['lenses:first'] - x.after['activate:start']))) : 'never',
);
row(
  'first lens request',
  (s) => `${ms(median(s.map((x) => x.lensMs)))} (${s[0].lensCount} lenses${s[0].topLens ? ', one at line 1' : ', none at line 1'})`,
);
row('lens after an edit', (s) => `${ms(median(s.map((x) => x.editLensMs)))} (${s[0].editLensCount} lenses)`);
const width = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c])).join('  '));

let failed = false;
for (const { ws, samples } of results) {
  const act = median(samples.map((x) => activateMs(x.ours)));
  if (act > ACTIVATE_LIMIT_MS) {
    console.log(`OVER: activate() on the ${ws.name} ${ms(act)} > ${ACTIVATE_LIMIT_MS} ms`);
    failed = true;
  }
  if (samples.some((x) => x.missingCommands.length)) {
    console.log(`missing at activation on the ${ws.name}: ${samples[0].missingCommands.join(', ')}`);
    failed = true;
  }
  if (!samples.every((x) => x.topLens)) {
    console.log(`no summary lens at line 1 on the ${ws.name}`);
    failed = true;
  }
}
console.log(`(marks of the last run: ${JSON.stringify(results.at(-1).samples.at(-1).ours)})`);
if (failed) process.exitCode = 1;

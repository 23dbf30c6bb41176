// `npm test`: every test stage in order, each timed, each ending in a plain
// `N passed, N failed` line, then a summary. Exits non-zero if any stage failed.
// Build and packaging failures stop the run (nothing after them would be meaningful).
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const stages = [
  { name: 'build', cmd: ['npm', 'run', '-s', 'build'], fatal: true },
  { name: 'lint', cmd: ['npm', 'run', '-s', 'lint'] },
  { name: 'format', cmd: ['npm', 'run', '-s', 'format:check'] },
  { name: 'unit', cmd: ['npm', 'run', '-s', 'unit'], counts: nodeTestCounts },
  { name: 'package', cmd: ['npm', 'run', '-s', 'vsix'], fatal: true },
  { name: 'ext', cmd: ['node', 'scripts/ext-host-test.mjs'] },
  { name: 'ext-rm', cmd: ['node', 'scripts/ext-host-test.mjs', '--restricted'] },
  { name: 'ui', cmd: ['node', 'test/ui/ui.test.mjs'] },
  // The real kernel in a VM (linux-source-6.1): bounded by TESTPLAN_CI_MINUTES, build cached under ~/.cache.
  { name: 'testplan', cmd: ['node', 'scripts/testplan-ci.mjs'] },
];

// On a fresh clone `npm test` is the one line to run: it installs what the stages need first
// (node_modules when absent, then the apt packages and code-server; a second run only checks).
stages.unshift(
  ...(existsSync('node_modules/.bin/tsc')
    ? []
    : [{ name: 'npm-ci', cmd: ['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error'], fatal: true }]),
  { name: 'deps', cmd: ['bash', 'scripts/install-ci-deps.sh'], fatal: true },
);

// node --test's reporter ends with `ℹ pass N` / `ℹ fail N`; restate it in our format.
function nodeTestCounts(out) {
  const n = (k) => Number(new RegExp(`^\\S+ ${k} (\\d+)$`, 'm').exec(out)?.[1] ?? NaN);
  return Number.isNaN(n('pass')) ? null : `${n('pass')} passed, ${n('fail')} failed`;
}

function run(cmd) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code) => resolve({ code, out }));
  });
}

const summary = [];
let ok = true;
let passed = 0;
let failed = 0;
for (const stage of stages) {
  console.log(`\n=== ${stage.name}: ${stage.cmd.join(' ')}`);
  const t = Date.now();
  const { code, out } = await run(stage.cmd);
  const secs = ((Date.now() - t) / 1000).toFixed(1);
  const counts = stage.counts?.(out);
  if (counts) console.log(`${stage.name}: ${counts}`);
  let note = counts ?? /^(?:\w+: )?(\d+ passed, \d+ failed)$/m.exec(out)?.[1] ?? '';
  const m = /(\d+) passed, (\d+) failed/.exec(note);
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  } else if (code !== 0) failed += 1; // a stage that failed without counts (build, package, crash)
  if (stage.name === 'package' && code === 0) note = `${(statSync('conntrack-backport.vsix').size / 1024).toFixed(0)} KB vsix`;
  summary.push(`${stage.name.padEnd(8)} ${secs.padStart(6)} s  ${code === 0 ? 'ok  ' : 'FAIL'}  ${note}`);
  if (code !== 0) {
    ok = false;
    if (stage.fatal) break;
  }
}
console.log(`\n=== summary\n${summary.join('\n')}`);
// One closing line over every suite, for whoever reads only the end.
console.log(`total: ${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);

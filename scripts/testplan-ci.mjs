// CI stage of `npm test`: the whole test plan pipeline on a real tree, Debian's linux-source-6.1
// (installed by scripts/install-ci-deps.sh): build out of place (cached under ~/.cache across
// runs), boot under qemu, race four configurations, and check that the router's counters were
// read in every configuration, the model's prediction stands beside each that has a scenario,
// and the serial control never clashed. Ends with the `N passed, N failed` line test-all reads.
// Bounded: the run gets TESTPLAN_CI_MINUTES (default 40) before it is killed.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const tarball = '/usr/src/linux-source-6.1.tar.xz';
const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'conntrack-backport', 'testplan', 'sources');
const tree = path.join(cache, 'linux-source-6.1');
const minutes = Number(process.env.TESTPLAN_CI_MINUTES ?? 40);
const trials = process.env.TESTPLAN_CI_TRIALS ?? '300';

if (!existsSync(tarball)) {
  console.log(`testplan-ci: not run: ${tarball} is absent (.ci/run installs linux-source-6.1)`);
  process.exit(process.env.CI ? 1 : 0);
}

function run(cmd, args, ms) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, ms);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, out });
    });
  });
}

const t0 = Date.now();
if (!existsSync(path.join(tree, '.extracted-ok'))) {
  mkdirSync(cache, { recursive: true });
  console.log(`testplan-ci: extracting ${tarball}`);
  const x = await run('nice', ['-n', '10', 'tar', '-xJf', tarball, '-C', cache], 15 * 60_000);
  if (x.code !== 0) {
    console.log('testplan-ci: 0 passed, 1 failed (extract)');
    process.exit(1);
  }
  writeFileSync(path.join(tree, '.extracted-ok'), '');
}
const configs = 'serial,masq,dnat2-random,snat-ports';
const r = await run(
  process.execPath,
  ['dist/cli.js', 'testplan', tree, '--json', '--progress', '--configs', configs, '--trials', trials],
  minutes * 60_000 - (Date.now() - t0),
);
let passed = 0;
let failed = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (ok) passed++;
  else failed++;
};
let res = null;
try {
  res = JSON.parse(r.out);
} catch {
  /* below */
}
check(res !== null, `testplan ran and answered JSON (exit ${r.code}${r.signal ? `, ${r.signal}: time limit ${minutes} min` : ''})`);
if (res) {
  const run0 = res.runs[0];
  check(!run0.error, `no run error${run0.error ? `: ${run0.error}` : ''}`);
  const b = run0.build;
  console.log(
    `testplan-ci: kernel ${b?.cached ? 'cached' : `built in ${Math.round((b?.buildMs ?? 0) / 1000)} s`}, VM ${Math.round((run0.boot?.ms ?? 0) / 1000)} s (${run0.boot?.accel}), /init after ${((run0.boot?.bootMs ?? 0) / 1000).toFixed(1)} s`,
  );
  check(
    b && b.check.missing.length === 0,
    `the configuration kept every required option${b?.check.missing.length ? ` (missing: ${b.check.missing.join(', ')})` : ''}`,
  );
  for (const name of configs.split(',')) {
    const c = run0.configs.find((x) => x.config === name);
    check(
      c && c.counters && c.counters.form !== 'none',
      `${name}: router counters read (${c?.counters?.form ?? 'none'}, ${c?.counters?.era ?? '-'})`,
    );
    check(c && c.replies && c.replies.trials > 0, `${name}: ${c?.replies?.trials ?? 0} trials raced`);
    if (name !== 'snat-ports')
      check(
        c && c.model && c.model.variant === run0.variant,
        `${name}: model prediction beside it (${c?.model?.scenario ?? 'none'}, ${c?.model?.variant ?? '-'})`,
      );
    if (name === 'serial')
      check(c && c.counters && c.counters.clashes === 0, `serial control never clashed (${c?.counters?.clashes ?? '?'} clashes)`);
  }
  writeFileSync(path.join(cache, 'last-ci-run.json'), r.out);
}
console.log(`testplan-ci: ${Math.round((Date.now() - t0) / 1000)} s`);
console.log(`testplan: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

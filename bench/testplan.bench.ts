// The test plan's targets (issue 15) beside what this run measured, on a real kernel tree
// (npm run bench:testplan -- --tree DIR [--patch FILE]... [--trials N] [--skip-whole]):
//   1. second run on an unchanged tree: no kernel rebuild (make not run) — cache hit
//   2. boot-to-first-result <= 15 s under TCG: qemu's start to the first figure (and from the
//      command's start, which adds the cache check and the root image)
//   3. incremental rebuild after a one-file change to nf_conntrack_core.c <= 60 s on 2 cores:
//      the plan's result when --patch gives the upstream commits, else the tree's own file with
//      one comment line added (a new bzImage key, so make runs and rebuilds only that object)
//   4. the whole plan (before and after with --patch, else before only) on every configuration,
//      N trials each (default 10000), within 30 minutes under TCG
// Everything goes through src/core/testplan (runTestPlan, buildKernel, resolveTree): no racing or
// building of its own. The incremental build's extra bzImage is removed from the cache afterwards.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CORE_REL_PATH } from '../src/core/detect/input';
import { buildKernel, DEFAULT_CONFIGS, resolveTree, runTestPlan, type ConfigResult, type TestPlanResult } from '../src/core/testplan';

const argv = process.argv.slice(2);
const opt = (k: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const all = (k: string) => argv.flatMap((a, i) => (a === `--${k}` && argv[i + 1] ? [argv[i + 1]] : []));
const debian61 = path.join(os.homedir(), '.cache', 'conntrack-backport', 'testplan', 'sources', 'linux-source-6.1');
const tree = opt('tree') ?? (fs.existsSync('/work/k414/Makefile') ? '/work/k414' : debian61);
const patches = all('patch');
const trials = Number(opt('trials') ?? 10000);
const skipWhole = argv.includes('--skip-whole');
const cache = opt('cache');

const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);
const rows: [string, string, string, string][] = [];
const row = (what: string, target: string, measured: string, ok: boolean | null) =>
  rows.push([what, target, measured, ok === null ? 'n/a' : ok ? 'met' : 'NOT met']);

function log(m: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
}

async function main(): Promise<void> {
  const t = await resolveTree(tree);
  console.log(
    `test plan bench: ${t.root} (${t.release}${t.commit ? `, ${t.commit.slice(0, 12)}` : ''}), ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; /dev/kvm ${fs.existsSync('/dev/kvm') ? 'present' : 'absent'}`,
  );

  // 0. The kernel in the cache (a first build when it is not there: reported, not a target).
  const t0 = Date.now();
  const warm = await runTestPlan(tree, { cache, buildOnly: true, configs: ['masq'], progress: (p, m) => log(`${p}: ${m}`) });
  const wb = warm.runs[0].build;
  if (!wb) throw new Error(`the build failed: ${warm.runs[0].error}`);
  console.log(`kernel: ${wb.cached ? 'already in the cache' : `first build ${s(wb.buildMs)} (make)`}, ${s(Date.now() - t0)} in all`);

  // 1 + 2. A second run: cache hit, then the first figure; stopped there (qemu killed).
  const ac = new AbortController();
  let firstAt: number | null = null;
  let firstVm = 0;
  let first: ConfigResult | undefined;
  const t1 = Date.now();
  const second = await runTestPlan(tree, {
    cache,
    trials,
    signal: ac.signal,
    progress: (p, m) => log(`${p}: ${m}`),
    onFigures: (_label, c, f) => {
      if (firstAt !== null) return;
      firstAt = Date.now() - t1;
      firstVm = f.vmMs;
      first = c;
      ac.abort();
    },
  });
  const r2 = second.runs[0];
  const sb = r2.build;
  row(
    'second run: kernel rebuild',
    'none (cache hit)',
    sb ? (sb.cached ? 'none: cache hit, make not run' : `make ran ${s(sb.buildMs)}`) : 'no build',
    !!sb?.cached,
  );
  // qemu's start to the first figure is the target; the command's start adds the cache check and root image.
  row(
    'boot-to-first-result (TCG)',
    '<= 15 s',
    firstAt === null
      ? `no figure (${r2.error ?? 'none came'})`
      : `${s(firstVm)} from qemu's start, ${s(firstAt)} from the command's (${first!.config}: ${first!.replies?.trials ?? 0} trials, ${first!.counters?.clashes ?? '?'} clashes)`,
    firstAt === null ? false : firstVm <= 15_000,
  );

  // 3. Incremental rebuild after a one-file change.
  let overlay: string;
  let what: string;
  if (patches.length && t.kind === 'git') {
    const { prepareBackport, predictDiff } = await import('../src/core/backport');
    const { plan } = await prepareBackport(t.root, { patchFiles: patches });
    const pd = plan.blocked || !plan.steps.length ? null : await predictDiff(t.root, plan, { fetch: false });
    const f = pd?.files.find((x) => x.path === CORE_REL_PATH)?.after;
    if (!f) throw new Error(`the plan does not change ${CORE_REL_PATH}: ${plan.blocked ?? plan.noop ?? 'no steps'}`);
    // The plan's file plus a nonce: the same object to compile as "after", never a cached image.
    overlay = `${f}\n/* conntrack-backport bench ${Date.now()} */\n`;
    what = `the plan's ${CORE_REL_PATH} (${plan.steps.length} step(s))`;
  } else {
    overlay = `${t.coreText}\n/* conntrack-backport bench ${Date.now()} */\n`;
    what = `${CORE_REL_PATH} with one comment line added`;
  }
  const t3 = Date.now();
  const inc = await buildKernel(t, { cache, overlay: { files: { [CORE_REL_PATH]: overlay } }, progress: (p, m) => log(`${p}: ${m}`) });
  const incWall = Date.now() - t3;
  fs.rmSync(path.dirname(inc.bzImage), { recursive: true, force: true });
  row(
    'incremental rebuild, one-file change',
    '<= 60 s on 2 cores',
    `make ${s(inc.buildMs)} (${s(incWall)} with config and export): ${what}`,
    !inc.cached && inc.buildMs <= 60_000,
  );

  // 4. The whole plan.
  if (skipWhole) row('whole plan, every configuration', '<= 30 min (TCG)', 'skipped (--skip-whole)', null);
  else {
    const afterPlan = patches.length > 0 && t.kind === 'git';
    const t4 = Date.now();
    const whole: TestPlanResult = await runTestPlan(tree, {
      cache,
      trials,
      afterPlan,
      plan: { patchFiles: patches },
      progress: (p, m) => log(`${p}: ${m}`),
    });
    const ms = Date.now() - t4;
    const runs = whole.runs.map((x) => `${x.label} ${x.error ? `error: ${x.error}` : `${x.configs.length} configs, VM ${s(x.boot?.ms)}`}`);
    row(
      `whole plan (${afterPlan ? 'before and after' : 'before only: no --patch'}), ${DEFAULT_CONFIGS.length} configurations x ${trials}`,
      '<= 30 min (TCG)',
      `${(ms / 60_000).toFixed(1)} min: ${runs.join('; ')}`,
      !whole.runs.some((x) => x.error) && ms <= 30 * 60_000,
    );
    const firsts = whole.runs.map((x) => `${x.label}: ${s(x.boot?.firstFigureMs)} from qemu's start (/init ${s(x.boot?.bootMs)})`);
    console.log(`first figure in the whole run: ${firsts.join('; ')}`);
    const { formatTestPlan } = await import('../src/core/testplan');
    console.log(formatTestPlan(whole));
  }

  const w = [0, 1, 2, 3].map((i) => Math.max(...[['target', 'issue 15', 'measured (this run)', ''], ...rows].map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
  console.log('');
  console.log(line(['target', 'issue 15', 'measured (this run)', '']));
  for (const r of rows) console.log(line(r));
  console.log(
    `(the machine is shared: load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end)`,
  );
}

main().catch((e) => {
  console.error(`bench:testplan: ${(e as Error).message}`);
  process.exit(1);
});

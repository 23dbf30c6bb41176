// One run prints: exhaustive time for 2/3/4 racing packets (memoised vs naive), all scenarios x
// all variants at 2 packets, Monte Carlo trials/s for the DNS scenario (reused state vs cloning
// per trial), and the speed table: per scenario, the old engine (BASELINE_COMMIT, rebuilt from
// git by modelBaseline.ts) on one thread against the new engine on one thread and on every core
// (worker pool). Targets: all-pairs < 100 ms, pool >= 3x the old single-thread figure.

import { exploreScenario, ExhaustiveBudgetError } from '../src/core/model/exhaustive';
import { monteCarloBuilt, monteCarloScenario } from '../src/core/model/montecarlo';
import { closeMcPools, monteCarloParallel } from '../src/core/model/pool';
import { BASELINE_COMMIT, loadBaseline } from './modelBaseline';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import { buildScenario, getScenario, SCENARIOS } from '../src/core/model/scenarios';
import { MODEL_VARIANT_IDS } from '../src/core/model/variants';

const t = () => performance.now();
const f = (ms: number) => `${ms.toFixed(1)} ms`;
const row = (a: string, b: string, c: string) => console.log(`${a.padEnd(44)} ${b.padEnd(34)} ${c}`);

function allPairs(): number {
  const t0 = t();
  for (const s of SCENARIOS) for (const v of MODEL_VARIANT_IDS) exploreScenario(s.name, v, { maxTraces: 0 });
  return t() - t0;
}

const ALL_SPEED = ['dns-snat', 'dns-vip', 'dns-vip-nth', 'dns-vip-snat', 'udp-port-race', 'tcp-masquerade'];
// `npm run bench:model -- --only tcp-masquerade[,dns-snat]`: the speed table for those scenarios only (nothing else).
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg > 0 ? (process.argv[onlyArg + 1] ?? '').split(',').filter(Boolean) : [];
for (const s of ONLY) if (!ALL_SPEED.includes(s)) throw new Error(`--only: ${s} is not one of ${ALL_SPEED.join(', ')}`);
const SPEED_SCENARIOS = ONLY.length ? ONLY : ALL_SPEED;
const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (x: number) => `${Math.round(x / 1000).toLocaleString('en')}k`;

/**
 * Speed table: per scenario and variant, the engine of BASELINE_COMMIT (today's single-thread
 * figure before this work), the new engine on one thread (the pool's 16 parts run in this thread)
 * and on every core (this thread + workers claiming the same parts). Five interleaved rounds,
 * median of each; trials sized for ~0.4 s of the new engine. The one-thread and pool results must
 * be identical for the seed (same parts), or the bench fails.
 */
async function speed(): Promise<void> {
  const workerPath = path.join(__dirname, '../src/core/model/mcWorker.js');
  const cores = availableParallelism();
  const base = await loadBaseline(path.join(__dirname, '../..'));
  const old = 'mc' in base ? base.mc : undefined;
  console.log(
    old
      ? `\nMonte Carlo trials/s: old = engine of ${BASELINE_COMMIT.slice(0, 12)} (1 thread), new = this tree; median of ${ROUNDS} interleaved rounds`
      : `\nMonte Carlo trials/s (${'reason' in base ? base.reason : ''}: no old column)`,
  );
  console.log(
    `${'scenario/variant'.padEnd(24)} ${'old 1 thr'.padStart(10)} ${'new 1 thr'.padStart(10)} ${`new ${cores} thr`.padStart(10)}  new/old  ${cores}thr/old  ${cores}thr/1thr  workers ran`,
  );
  // Warm the pool (threads start, JIT in each) so the table measures the engine, not thread start.
  await monteCarloParallel('dns-snat', 'none', { trials: 400_000, seed: 3, threads: cores, workerPath });
  const ratios: number[] = [];
  for (const s of SPEED_SCENARIOS)
    for (const v of ['none', 'both'] as const) {
      // Warm every engine on this scenario (the pool's threads too), then size the runs from the
      // steady-state rate (a prebuilt table: tcp-masquerade's 32k held ports take 100 ms to build).
      old?.(s, v, { trials: 50_000, seed: 9 });
      await monteCarloParallel(s, v, { trials: 100_000, seed: 9, threads: cores, workerPath });
      const probe = monteCarloBuilt(buildScenario(getScenario(s), v, {}, 8), { trials: 50_000, seed: 8 });
      const trials = Math.max(32_000, Math.round((probe.trialsPerSec * 0.4) / 16) * 16);
      const o: number[] = [],
        n: number[] = [],
        p: number[] = [];
      let workerParts = 0;
      for (let k = 0; k < ROUNDS; k++) {
        if (old) o.push(old(s, v, { trials, seed: 1 + k }).trialsPerSec);
        const one = await monteCarloParallel(s, v, { trials, seed: 1 + k, threads: 1 });
        const all = await monteCarloParallel(s, v, { trials: 2 * trials, seed: 1 + k, threads: cores, workerPath });
        if (k === 0) {
          const same = await monteCarloParallel(s, v, { trials, seed: 1, threads: cores, workerPath });
          if (same.dropped !== one.dropped || same.clashes !== one.clashes || same.races !== one.races)
            throw new Error(`${s}/${v}: the pool's result differs from the single-thread one for seed 1`);
        }
        n.push(one.trialsPerSec);
        p.push(all.trialsPerSec);
        workerParts += all.workerParts;
      }
      const [mo, mn, mp] = [old ? median(o) : NaN, median(n), median(p)];
      if (old) ratios.push(mp / mo);
      const x = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-');
      console.log(
        `${`${s}/${v}`.padEnd(24)} ${(old ? rate(mo) : '-').padStart(10)} ${rate(mn).padStart(10)} ${rate(mp).padStart(10)}  ${x(mn, mo).padStart(7)}  ${x(mp, mo).padStart(9)}  ${x(mp, mn).padStart(10)}  ${workerParts}/${ROUNDS * 16} parts`,
      );
    }
  if (ratios.length)
    console.log(
      `new engine on ${cores} threads vs old single thread: ${Math.min(...ratios).toFixed(2)}x .. ${Math.max(...ratios).toFixed(2)}x (target >= 3x)`,
    );
  await closeMcPools();
}

function main(): void {
  const tStart = t();
  console.log(
    `conntrack model bench (node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at start: the machine is shared)`,
  );
  row('measure', 'model (memoised / reused state)', 'naive baseline');
  // Monte Carlo first, on a clean heap, as a `simulate` run sees it (the 4-packet exhaustive
  // runs below leave large memo tables for the collector).
  for (const v of ['both', 'none'] as const) {
    monteCarloScenario('dns-snat', v, { trials: 200_000, seed: 9 }); // warm-up
    const mc = monteCarloScenario('dns-snat', v, { trials: 2_000_000, seed: 1 });
    const nv = monteCarloScenario('dns-snat', v, { trials: 200_000, seed: 1, naive: true });
    row(
      `Monte Carlo dns-snat/${v} trials/s`,
      `${Math.round(mc.trialsPerSec).toLocaleString('en')} (${mc.trials} trials)`,
      `${Math.round(nv.trialsPerSec).toLocaleString('en')} (clone per race)`,
    );
  }
  for (const n of [2, 3, 4]) {
    const over = { packets: n, cpus: n };
    const a0 = t();
    const r = exploreScenario('dns-snat', 'ed07d9a', { overrides: over, maxTraces: 0 });
    const a = t() - a0;
    let naive: string;
    try {
      const b0 = t();
      const nr = exploreScenario('dns-snat', 'ed07d9a', { overrides: over, maxTraces: 0, dedup: false, nodeBudget: 1_000_000 });
      naive = `${f(t() - b0)} (${nr.states} nodes)`;
      if (nr.schedules !== r.schedules || nr.dropSchedules !== r.dropSchedules) naive += ' MISMATCH';
    } catch (e) {
      if (!(e instanceof ExhaustiveBudgetError)) throw e;
      naive = `> ${f(e.ms)} (aborted at ${e.nodes} nodes)`;
    }
    row(`exhaustive dns-snat, ${n} packets (${r.schedules} schedules)`, `${f(a)} (${r.states} states)`, naive);
  }
  const vip0 = t();
  const vip = exploreScenario('dns-vip', 'both', { overrides: { packets: 4, cpus: 4 }, maxTraces: 0 });
  row(`exhaustive dns-vip, 4 packets (${vip.schedules} schedules)`, `${f(t() - vip0)} (${vip.states} states)`, '-');

  const cold = allPairs();
  const warm = allPairs();
  const pairs = SCENARIOS.length * MODEL_VARIANT_IDS.length;
  row(
    `all ${SCENARIOS.length} scenarios x ${MODEL_VARIANT_IDS.length} variants, 2 packets (${pairs})`,
    `${f(warm)} warm, ${f(cold)} cold`,
    `target < 100 ms`,
  );

  console.log(`total ${f(t() - tStart)}`);
}

if (!ONLY.length) main();
else
  console.log(
    `conntrack model bench, speed table only (node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at start)`,
  );
void speed().then(() =>
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (the machine is shared)`,
  ),
);

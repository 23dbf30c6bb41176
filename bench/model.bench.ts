// One run prints: exhaustive time for 2/3/4 racing packets (memoised vs naive), all scenarios x
// all variants at 2 packets, and Monte Carlo trials/s for the DNS scenario (reused state vs
// cloning per trial). Targets: all-pairs < 100 ms, Monte Carlo >= 1,000,000 trials/s.

import { exploreScenario, ExhaustiveBudgetError } from '../src/core/model/exhaustive';
import { monteCarloScenario } from '../src/core/model/montecarlo';
import { monteCarloParallel } from '../src/core/model/pool';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import { SCENARIOS } from '../src/core/model/scenarios';
import { MODEL_VARIANT_IDS } from '../src/core/model/variants';

const t = () => performance.now();
const f = (ms: number) => `${ms.toFixed(1)} ms`;
const row = (a: string, b: string, c: string) => console.log(`${a.padEnd(44)} ${b.padEnd(34)} ${c}`);

function allPairs(): number {
  const t0 = t();
  for (const s of SCENARIOS) for (const v of MODEL_VARIANT_IDS) exploreScenario(s.name, v, { maxTraces: 0 });
  return t() - t0;
}

/** Single-thread engine vs the worker pool over every core, same trials and seed, same run. */
async function parallel(): Promise<void> {
  const workerPath = path.join(__dirname, '../src/core/model/mcWorker.js');
  const cores = availableParallelism();
  for (const v of ['none', 'both'] as const) {
    const trials = 2_000_000;
    const one = await monteCarloParallel('dns-snat', v, { trials, seed: 1, threads: 1, workerPath });
    const all = await monteCarloParallel('dns-snat', v, { trials, seed: 1, threads: cores, workerPath });
    if (one.dropped !== all.dropped) throw new Error('parallel result differs from the single-thread one');
    row(
      `Monte Carlo dns-snat/${v}, ${cores} worker threads`,
      `${Math.round(all.trialsPerSec).toLocaleString('en')} trials/s (${(all.trialsPerSec / one.trialsPerSec).toFixed(2)}x)`,
      `${Math.round(one.trialsPerSec).toLocaleString('en')} single thread`,
    );
  }
}

function main(): void {
  const tStart = t();
  console.log('conntrack model bench (node', process.version + ')');
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

main();
void parallel().then(() =>
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (the machine is shared)`,
  ),
);

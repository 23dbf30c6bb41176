// Monte Carlo over all cores: the trials are cut into a fixed number of parts, each with its own
// seed (so the answer for a seed does not depend on how many cores ran it), the parts run in
// worker threads (mcWorker.js beside this file or the bundle), and the results are merged.
// Without a worker script the same parts run in this thread, with the same answer.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { monteCarloScenario, summarizeLatency, type McResult } from './montecarlo';
import { wilson } from './rng';
import { buildScenario, getScenario, type ScenarioKnobs } from './scenarios';
import type { ModelVariantId } from './variants';

export interface PartRequest {
  scenario: string;
  variant: ModelVariantId;
  trials: number;
  seed: number;
  overrides: Partial<ScenarioKnobs>;
}

export interface PoolOptions {
  trials: number;
  seed?: number;
  overrides?: Partial<ScenarioKnobs>;
  /** Worker threads (default: every core). 0 or 1: in this thread. */
  threads?: number;
  /** Parts the trials are cut into (default 16): fixed, so results do not depend on threads. */
  parts?: number;
  workerPath?: string;
}

export interface PoolResult extends McResult {
  threads: number;
  parts: number;
  where: 'workers' | 'in-process';
  reason?: string;
}

export const partSeed = (seed: number, i: number): number => (i === 0 ? seed >>> 0 : (seed + Math.imul(i, 0x9e3779b9)) >>> 0);

export function defaultWorkerPath(): string {
  return path.join(__dirname, 'mcWorker.js');
}

export async function monteCarloParallel(scenario: string, variant: ModelVariantId, opts: PoolOptions): Promise<PoolResult> {
  const t0 = performance.now();
  const seed = opts.seed ?? 1;
  const nParts = Math.max(1, Math.min(opts.parts ?? 16, opts.trials));
  const reqs: PartRequest[] = [];
  for (let i = 0; i < nParts; i++) {
    const n = Math.floor(opts.trials / nParts) + (i < opts.trials % nParts ? 1 : 0);
    reqs.push({ scenario, variant, trials: n, seed: partSeed(seed, i), overrides: opts.overrides ?? {} });
  }
  const threads = Math.min(nParts, opts.threads ?? availableParallelism());
  const wp = opts.workerPath ?? defaultWorkerPath();
  let where: PoolResult['where'] = 'workers';
  let reason: string | undefined;
  let results: McResult[];
  if (threads <= 1 || !existsSync(wp)) {
    where = 'in-process';
    reason = threads <= 1 ? 'one thread' : `no worker script at ${wp}`;
    results = reqs.map((r) => monteCarloScenario(r.scenario, r.variant, { trials: r.trials, seed: r.seed, overrides: r.overrides }));
  } else {
    results = new Array<McResult>(nParts);
    let next = 0;
    const lane = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const w = new Worker(wp);
        const feed = () => {
          if (next >= nParts) {
            void w.terminate();
            resolve();
            return;
          }
          const i = next++;
          w.once('message', (m: { ok: boolean; result?: McResult; error?: string }) => {
            if (!m.ok) {
              void w.terminate();
              reject(new Error(m.error));
              return;
            }
            results[i] = m.result!;
            feed();
          });
          w.postMessage(reqs[i]);
        };
        w.once('error', reject);
        feed();
      });
    await Promise.all(Array.from({ length: threads }, lane));
  }
  return {
    ...mergeResults(scenario, variant, seed, opts.overrides ?? {}, results, performance.now() - t0, opts.trials),
    threads: where === 'workers' ? threads : 1,
    parts: nParts,
    where,
    reason,
  };
}

function mergeResults(
  scenario: string,
  variant: ModelVariantId,
  seed: number,
  overrides: Partial<ScenarioKnobs>,
  rs: McResult[],
  ms: number,
  trials: number,
): McResult {
  const sum = (f: (r: McResult) => number) => rs.reduce((s, r) => s + f(r), 0);
  const addRec = <T extends Record<string, number>>(xs: T[]): T => {
    const o: Record<string, number> = {};
    for (const x of xs) for (const [k, v] of Object.entries(x)) o[k] = (o[k] ?? 0) + v;
    return o as T;
  };
  const races = sum((r) => r.races),
    packets = sum((r) => r.packets),
    dropped = sum((r) => r.dropped);
  const hist = rs[0].latencyHist.map((_, k) => sum((r) => r.latencyHist[k]));
  const kn = buildScenario(getScenario(scenario), variant, overrides, seed).knobs;
  const clashes = sum((r) => r.clashes),
    droppedAtConfirm = sum((r) => r.droppedAtConfirm);
  const racedRounds = sum((r) => r.racedRounds),
    twoBackends = sum((r) => r.twoBackends);
  const cpus = rs[0].perCpu.length;
  return {
    scenario,
    variant,
    seed,
    trials,
    races,
    packets,
    dropped,
    dropRate: packets ? dropped / packets : 0,
    dropCi: wilson(dropped, packets),
    outcomes: addRec(rs.map((r) => r.outcomes)),
    causes: addRec(rs.map((r) => r.causes)),
    counters: addRec(rs.map((r) => r.counters)),
    perCpu: Array.from({ length: cpus }, (_, c) => addRec(rs.map((r) => r.perCpu[c]))),
    latency: summarizeLatency(
      hist,
      kn,
      sum((r) => r.latency.failed),
    ),
    latencyHist: hist,
    clashes,
    merged: sum((r) => r.merged),
    clashInserted: sum((r) => r.clashInserted),
    droppedAtConfirm,
    dropGivenClash: droppedAtConfirm / Math.max(1, clashes),
    racedRounds,
    twoBackends,
    twoBackendsShare: racedRounds ? twoBackends / racedRounds : 0,
    ms,
    trialsPerSec: trials / (ms / 1000),
  };
}

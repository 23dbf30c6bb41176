// Monte Carlo over all cores: the trials are cut into a fixed number of parts, each with its own
// seed (so the answer for a seed does not depend on how many threads ran it), and the parts are
// claimed one at a time from a shared counter (Atomics on a SharedArrayBuffer) by this thread and
// by long-lived worker threads (mcWorker.js beside this file or the bundle). One message per job
// goes to each worker and one per finished part comes back: nothing per trial. Workers stay up
// between jobs (unref'd while idle, so they never keep a process alive), so a second run pays
// neither thread start nor JIT warm-up. Without a worker script the same parts run in this
// thread, with the same answer.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { monteCarloBuilt, summarizeLatency, type McResult } from './montecarlo';
import { wilson } from './rng';
import { buildScenario, getScenario, scenarioKnobs, type BuiltScenario, type ScenarioKnobs } from './scenarios';
import type { StateSnapshot } from './state';
import type { ModelVariantId } from './variants';

export interface PartRequest {
  scenario: string;
  variant: ModelVariantId;
  trials: number;
  /** Seed of this part's trials. */
  seed: number;
  /** Seed the baseline table is built with: the run's seed, the same for every part. */
  buildSeed: number;
  overrides: Partial<ScenarioKnobs>;
}

/** Host -> worker: run parts of `reqs`, claiming indexes from ctl[0]; ctl[1 + i] = claimer. */
export interface JobMessage {
  type: 'job';
  job: number;
  slot: number;
  reqs: PartRequest[];
  ctl: SharedArrayBuffer;
}

/** Worker -> host: one finished part (or the error that stopped it). */
export type PartMessage =
  { type: 'part'; job: number; index: number; result: McResult } | { type: 'error'; job: number; index: number; error: string };

export interface PoolOptions {
  trials: number;
  seed?: number;
  overrides?: Partial<ScenarioKnobs>;
  /** Threads in all, this one included (default: every core). 0 or 1: this thread only. */
  threads?: number;
  /** Parts the trials are cut into (default 16): fixed, so results do not depend on threads. */
  parts?: number;
  workerPath?: string;
  /** This thread claims parts too (default). Off: only workers run parts (e.g. on an editor's main thread). */
  mainThread?: boolean;
  /** Checked between parts; when set the run stops with PoolCancelled. */
  signal?: { cancelled: boolean };
  /** After each finished part: trials done so far, of all. */
  onProgress?: (done: number, total: number) => void;
}

export interface PoolResult extends McResult {
  threads: number;
  parts: number;
  /** Parts that ran in worker threads (the rest ran in this thread). */
  workerParts: number;
  where: 'workers' | 'in-process';
  reason?: string;
}

export class PoolCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export const partSeed = (seed: number, i: number): number => (i === 0 ? seed >>> 0 : (seed + Math.imul(i, 0x9e3779b9)) >>> 0);

export function defaultWorkerPath(): string {
  return path.join(__dirname, 'mcWorker.js');
}

export function partRequests(scenario: string, variant: ModelVariantId, opts: PoolOptions): PartRequest[] {
  const seed = opts.seed ?? 1;
  const nParts = Math.max(1, Math.min(opts.parts ?? 16, opts.trials));
  const reqs: PartRequest[] = [];
  for (let i = 0; i < nParts; i++) {
    const n = Math.floor(opts.trials / nParts) + (i < opts.trials % nParts ? 1 : 0);
    reqs.push({ scenario, variant, trials: n, seed: partSeed(seed, i), buildSeed: seed, overrides: opts.overrides ?? {} });
  }
  return reqs;
}

// Built baselines kept per thread: a part restores the state object to its snapshot instead of
// building it again (16 builds of a 32k-entry table were most of a TCP run). A part whose trials
// changed a baseline entry (restore() refuses) makes the next one build afresh, so a part's result
// is the same whichever thread, and after whichever part, it ran.
// A new seed of the same scenario builds into the state of the last one (same shape: its entry
// objects and node arrays are reused), since each run of a bench or a panel has its own seed.
interface Built {
  b: BuiltScenario;
  snap: StateSnapshot;
  origs: number[];
  fresh: boolean;
  shape: string;
}
const built = new Map<string, Built>();

export function runPart(r: PartRequest): McResult {
  const shape = JSON.stringify([r.scenario, r.variant, r.overrides]);
  const key = `${shape}#${r.buildSeed}`;
  let c = built.get(key);
  let reuse: BuiltScenario['state'] | undefined;
  if (c && !c.fresh && !c.b.state.restore(c.snap)) {
    built.delete(key);
    reuse = c.b.state;
    c = undefined;
  }
  if (!c) {
    if (!reuse)
      for (const [k, o] of built)
        if (o.shape === shape) {
          built.delete(k);
          reuse = o.b.state;
          break;
        }
    const b = buildScenario(getScenario(r.scenario), r.variant, r.overrides, r.buildSeed, reuse);
    c = { b, snap: b.state.snapshot(), origs: b.packets.map((p) => p.orig), fresh: true, shape };
    if (built.size >= 4) built.delete(built.keys().next().value!);
    built.set(key, c);
  }
  c.b.packets.forEach((p, i) => (p.orig = c.origs[i]));
  c.fresh = false;
  return monteCarloBuilt(c.b, { trials: r.trials, seed: r.seed });
}

// ---- long-lived workers, one set per worker script -------------------------------------------

interface Slot {
  worker: Worker;
  dead: boolean;
  /** Handler of the job in flight (one job at a time per pool). */
  onMessage?: (m: PartMessage) => void;
  onDeath?: (err: Error) => void;
}

const pools = new Map<string, Slot[]>();
/** Jobs run one after another per pool: a second caller waits for the first. */
const poolBusy = new Map<string, Promise<unknown>>();
let jobIds = 0;

function slots(wp: string, n: number): Slot[] {
  let ps = pools.get(wp);
  if (!ps) pools.set(wp, (ps = []));
  for (let i = ps.length - 1; i >= 0; i--) if (ps[i].dead) ps.splice(i, 1);
  while (ps.length < n) {
    const s: Slot = { worker: new Worker(wp), dead: false };
    s.worker.on('message', (m: PartMessage) => s.onMessage?.(m));
    const die = (err: Error) => {
      if (s.dead) return;
      s.dead = true;
      s.onDeath?.(err);
    };
    s.worker.on('error', die);
    s.worker.on('exit', (code) => die(new Error(`Monte Carlo worker exited (code ${code})`)));
    s.worker.unref();
    ps.push(s);
  }
  return ps.slice(0, n);
}

/** Stops every idle worker (tests, and an editor deactivating). */
export async function closeMcPools(): Promise<void> {
  const all = [...pools.values()].flat();
  pools.clear();
  for (const s of all) s.dead = true;
  await Promise.all(all.map((s) => s.worker.terminate()));
}

export async function monteCarloParallel(scenario: string, variant: ModelVariantId, opts: PoolOptions): Promise<PoolResult> {
  const t0 = performance.now();
  const seed = opts.seed ?? 1;
  const reqs = partRequests(scenario, variant, opts);
  const nParts = reqs.length;
  const mainThread = opts.mainThread ?? true;
  const threads = Math.max(1, Math.min(nParts, opts.threads ?? availableParallelism()));
  const wp = opts.workerPath ?? defaultWorkerPath();
  let where: PoolResult['where'] = 'workers';
  let reason: string | undefined;
  let results: McResult[];
  let workerParts = 0;
  const wantWorkers = mainThread ? threads - 1 : threads;
  if (wantWorkers < 1 || !existsSync(wp)) {
    where = 'in-process';
    reason = wantWorkers < 1 ? 'one thread' : `no worker script at ${wp}`;
    results = [];
    let done = 0;
    for (const r of reqs) {
      if (opts.signal?.cancelled) throw new PoolCancelled();
      results.push(runPart(r));
      opts.onProgress?.((done += r.trials), opts.trials);
      if (opts.onProgress || opts.signal) await nextTurn();
    }
  } else {
    const prev = poolBusy.get(wp) ?? Promise.resolve();
    const job = prev.then(() => runJob(wp, wantWorkers, reqs, mainThread, opts));
    poolBusy.set(
      wp,
      job.catch(() => undefined),
    );
    ({ results, workerParts } = await job);
  }
  return {
    ...mergeResults(scenario, variant, seed, opts.overrides ?? {}, results, performance.now() - t0, opts.trials),
    threads: where === 'workers' ? threads : 1,
    parts: nParts,
    workerParts,
    where,
    reason,
  };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

async function runJob(
  wp: string,
  nWorkers: number,
  reqs: PartRequest[],
  mainThread: boolean,
  opts: PoolOptions,
): Promise<{ results: McResult[]; workerParts: number }> {
  const n = reqs.length;
  const job = ++jobIds;
  const ctlBuf = new SharedArrayBuffer(4 * (n + 1));
  const ctl = new Int32Array(ctlBuf);
  const results = new Array<McResult | undefined>(n);
  let got = 0,
    workerParts = 0,
    doneTrials = 0;
  const ws = slots(wp, nWorkers);
  let settle: (err?: Error) => void = () => {};
  let failure: Error | undefined;
  /** Wakes the waiting loop below: a part arrived, a worker died, or the job failed. */
  let wake: (() => void) | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (err) => {
      if (err) failure ??= err;
      wake?.();
      if (err) reject(err);
      else resolve();
    };
  });
  finished.catch(() => undefined);
  const store = (i: number, r: McResult) => {
    if (results[i]) return;
    results[i] = r;
    got++;
    doneTrials += reqs[i].trials;
    opts.onProgress?.(doneTrials, opts.trials);
    if (got === n) settle();
    wake?.();
  };
  /** Parts a dead worker had claimed and not reported run here instead. */
  const orphans: number[] = [];
  ws.forEach((s, k) => {
    s.onMessage = (m) => {
      if (m.job !== job) return;
      if (m.type === 'error') settle(new Error(m.error));
      else {
        workerParts++;
        store(m.index, m.result);
      }
    };
    s.onDeath = () => {
      for (let i = 0; i < n; i++) if (!results[i] && Atomics.load(ctl, i + 1) === k + 1) orphans.push(i);
      wake?.();
      if (!mainThread && ws.every((x) => x.dead)) settle(new Error('every Monte Carlo worker died'));
    };
    s.worker.ref();
    const msg: JobMessage = { type: 'job', job, slot: k + 1, reqs, ctl: ctlBuf };
    s.worker.postMessage(msg);
  });
  const cancelled = () => {
    if (!opts.signal?.cancelled) return false;
    Atomics.store(ctl, 0, n); // nobody claims another part
    return true;
  };
  try {
    if (mainThread) {
      for (;;) {
        if (cancelled()) throw new PoolCancelled();
        const i = Atomics.add(ctl, 0, 1);
        if (i >= n) break;
        Atomics.store(ctl, i + 1, -1);
        store(i, runPart(reqs[i]));
        // Let worker results and progress through between parts.
        await nextTurn();
      }
    }
    // Wait for the workers; run here whatever a dead worker left.
    while (got < n) {
      if (failure) throw failure;
      const o = orphans.shift();
      if (o !== undefined) {
        if (!results[o]) store(o, runPart(reqs[o]));
        continue;
      }
      if (cancelled()) throw new PoolCancelled();
      if (mainThread && ws.every((s) => s.dead)) {
        // No worker left: claim what is still unclaimed here.
        const i = Atomics.add(ctl, 0, 1);
        if (i < n) {
          store(i, runPart(reqs[i]));
          continue;
        }
      }
      // Until a part arrives or a worker dies (and, to honour cancel, at most 50 ms).
      await new Promise<void>((r) => {
        const timer = opts.signal ? setTimeout(r, 50) : undefined;
        wake = () => {
          if (timer) clearTimeout(timer);
          r();
        };
      });
      wake = undefined;
    }
    await finished;
  } finally {
    Atomics.store(ctl, 0, n);
    for (const s of ws) {
      s.onMessage = undefined;
      s.onDeath = undefined;
      if (!s.dead) s.worker.unref();
    }
  }
  return { results: results as McResult[], workerParts };
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
  // The knobs only (building the table here cost tcp-masquerade 100 ms per run).
  const kn = scenarioKnobs(getScenario(scenario), overrides);
  const clashes = sum((r) => r.clashes),
    droppedAtConfirm = sum((r) => r.droppedAtConfirm);
  const lossRounds = sum((r) => r.lossRounds);
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
    lossRounds,
    twoBackends,
    twoBackendsShare: racedRounds ? twoBackends / racedRounds : 0,
    ms,
    trialsPerSec: trials / (ms / 1000),
  };
}

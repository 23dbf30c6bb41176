// Seeded Monte Carlo over the same steps: each trial sends the racing packets with a random
// skew, each step costs a random time, and the CPU whose packet is due next runs its step.
// Rates come from counting what the steps did; the state is reused across trials (entries
// allocated by a trial are released after it) so the loop allocates nothing.

import { Rng, RngChooser, wilson } from './rng';
import { COUNTER_NAMES, NC, type CounterName } from './state';
import {
  OUTCOME_NAMES,
  O_CLASH_INSERTED,
  O_DROPPED,
  O_MERGED,
  O_TABLE_FULL,
  Packet,
  PH_CONFIRM,
  PH_DNAT,
  PH_DONE,
  PH_LOOKUP,
  PH_REPLY,
  PH_SNAT,
  PH_SNAT_PICK,
  SNAT_NONE,
  type OutcomeName,
} from './packet';
import { runStep, type StepCtx } from './steps';
import { buildScenario, getScenario, runnable, type BuiltScenario, type ScenarioKnobs } from './scenarios';
import { tDaddr, tDport, tProto, tSaddr, tuple, TCP } from './tuple';
import type { ModelVariantId } from './variants';

export interface McOptions {
  trials: number;
  seed?: number;
  overrides?: Partial<ScenarioKnobs>;
  /** Naive baseline: clone the baseline state and packets for every race (allocates per trial). */
  naive?: boolean;
  /**
   * timed (default): send skew and step costs decide who runs next. uniform: the exhaustive
   * engine's scheduler, a runnable packet picked uniformly at each step, every round starting
   * from the baseline's rover and DNAT counter as each explored schedule does; its rates then
   * estimate the exhaustive engine's probabilities (a cross-check of the two engines).
   */
  scheduler?: 'timed' | 'uniform';
}

export interface LatencySummary {
  /** What one sample is: a DNS lookup or a TCP connect. */
  unit: 'lookup' | 'connect';
  samples: number;
  /** Samples delayed by at least one lost packet. */
  delayed: number;
  delayedRate: number;
  delayedCi: [number, number];
  /** Samples that never got through within `attempts`. */
  failed: number;
  meanS: number;
  p50S: number;
  p99S: number;
}

export interface McResult {
  scenario: string;
  variant: ModelVariantId;
  seed: number;
  trials: number;
  /** Racing rounds run (retries included). */
  races: number;
  packets: number;
  dropped: number;
  dropRate: number;
  dropCi: [number, number];
  outcomes: Record<OutcomeName, number>;
  causes: Record<string, number>;
  counters: Record<CounterName, number>;
  /** Per-CPU rows as `conntrack -S` prints them. */
  perCpu: Record<CounterName, number>[];
  latency: LatencySummary;
  /** Lookups (connects) by lost attempts 0..attempts: what the latency summary is made of. */
  latencyHist: number[];
  /** Packets that met a clash at confirm (merged + clashInserted + dropped there). */
  clashes: number;
  merged: number;
  /** Clashes resolved by inserting the loser REPLY-only, NAT_CLASH (the 2020 rework). */
  clashInserted: number;
  /** Packets dropped at confirm (a clash not resolved); `dropped` also counts "table full". */
  droppedAtConfirm: number;
  /** P(drop | clash) = droppedAtConfirm / clashes. */
  dropGivenClash: number;
  /** Racing rounds with at least one clash. */
  racedRounds: number;
  /** Racing rounds in which at least one packet was lost. */
  lossRounds: number;
  /** Rounds whose packets were all answered, by two or more different endpoints (DNAT). */
  twoBackends: number;
  /** twoBackends / racedRounds. */
  twoBackendsShare: number;
  ms: number;
  trialsPerSec: number;
}

const STEP_COST = [1, 0.5, 1, 1, 1, 1, 0]; // by phase: lookup dnat snat snat-pick confirm reply done (dnat from the knob)

export function monteCarloBuilt(b: BuiltScenario, opts: McOptions): McResult {
  const t0 = performance.now();
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed);
  const ctx: StepCtx = { ch: new RngChooser(rng), trace: null, addrs: b.addrs };
  const kn = b.knobs;
  const tcp = kn.proto === 'tcp';
  const np = b.packets.length;
  const ready = new Float64Array(np);
  const cpuFree = new Float64Array(b.state.cfg.cpus);
  const base = b.packets.map((p) => p.orig);
  const outcomes = new Float64Array(OUTCOME_NAMES.length);
  const causes: Record<string, number> = {};
  let st = b.state;
  let pk = b.packets;
  const baseline = opts.naive ? b.state.clone() : null;
  const basePk = opts.naive ? b.packets.map((p) => p.clone()) : null;
  const stepCost = kn.stepCostUs;
  const cost = STEP_COST.slice();
  cost[PH_DNAT] = kn.dnatCost;
  const skew = kn.skewUs;
  const range = st.cfg.nat.portRange;
  let races = 0,
    packets = 0,
    dropped = 0,
    racedRounds = 0,
    lossRounds = 0,
    twoBackends = 0;
  const multi = kn.endpoints > 1;
  const lost = new Uint8Array(np);
  // Naive mode throws each state away: keep its counters here.
  const acc = opts.naive ? new Float64Array(st.stats.length) : null;

  /** One racing round; returns how many packets were lost and marks them in `lost`. */
  const cpus = st.cfg.cpus;
  const serial = b.serial;
  // Two packets: when the second one's first step cannot come before the first one's last step,
  // the round runs in order, whatever the step costs are, so they need not be drawn. `lastStart`
  // bounds when packet 0's last step starts: every step of its longest path but the last, each
  // at its most expensive (1.5 x mean).
  const path0 = [PH_LOOKUP];
  if (kn.endpoints > 0) path0.push(PH_DNAT);
  if (pk[0].snat !== SNAT_NONE) path0.push(PH_SNAT, PH_SNAT_PICK);
  path0.push(PH_CONFIRM);
  if (pk[0].wantReply) path0.push(PH_REPLY);
  let lastStart = 0;
  for (let i = 0; i + 1 < path0.length; i++) lastStart += 1.5 * stepCost * cost[path0[i]];
  const inOrder2 = np === 2;
  const uniform = opts.scheduler === 'uniform';
  const rover0 = st.rover,
    nth0 = st.nth;
  const run = new Array<number>(np);
  const race = (): number => {
    races++;
    if (baseline && basePk) {
      st = baseline.clone();
      pk = basePk.map((p) => p.clone());
    }
    // Rotate which CPU each sender runs on from round to round: over many rounds the per-CPU
    // counters spread as the kernel's do, instead of the second sender always being CPU 1.
    const rot = races % cpus;
    for (let i = 0; i < np; i++) {
      const p = pk[i];
      p.reset();
      p.cpu = (i + rot) % cpus;
      if (kn.randomSourcePorts && tcp) {
        const o = base[i];
        p.orig = tuple(tProto(o), tSaddr(o), 1024 + rng.int(range), tDaddr(o), tDport(o));
      }
      ready[i] = i === 0 ? 0 : rng.next() * skew;
    }
    if (uniform) {
      st.rover = rover0;
      st.nth = nth0;
      for (let nr = runnable(b, pk, run); nr > 0; nr = runnable(b, pk, run)) runStep(st, pk[run[rng.int(nr)]], ctx);
    } else if (inOrder2 && (serial || pk[0].cpu === pk[1].cpu || ready[1] >= lastStart)) {
      const p0 = pk[0],
        p1 = pk[1];
      while (p0.phase !== PH_DONE) runStep(st, p0, ctx);
      while (p1.phase !== PH_DONE) runStep(st, p1, ctx);
    } else schedule();
    return tally();
  };

  /** The general interleaving: the CPU whose packet is due next runs one step of it. */
  const schedule = (): void => {
    cpuFree.fill(0);
    let gFree = 0;
    for (;;) {
      let best = -1,
        bestT = Infinity;
      for (let i = 0; i < np; i++) {
        const p = pk[i];
        if (p.done) continue;
        let blocked = false;
        for (let j = 0; j < i; j++) {
          const q = pk[j];
          if (!q.done && (b.serial || q.cpu === p.cpu)) {
            blocked = true;
            break;
          }
        }
        if (blocked) continue;
        let t = ready[i];
        const f = b.serial ? gFree : cpuFree[p.cpu];
        if (f > t) t = f;
        if (t < bestT) {
          bestT = t;
          best = i;
        }
      }
      if (best < 0) break;
      const p = pk[best];
      const ph = p.phase;
      ready[best] = bestT + stepCost * cost[ph] * (0.5 + rng.next());
      runStep(st, p, ctx);
      if (p.done) {
        cpuFree[p.cpu] = ready[best];
        gFree = ready[best];
      }
    }
  };

  const tally = (): number => {
    let n = 0,
      clashed = false,
      ep0 = -1,
      epDiff = false;
    for (let i = 0; i < np; i++) {
      const p = pk[i];
      if (p.outcome === O_MERGED || p.outcome === O_CLASH_INSERTED || p.outcome === O_DROPPED) clashed = true;
      if (multi && p.ct >= 0 && p.outcome !== O_DROPPED && p.outcome !== O_TABLE_FULL) {
        const ep = tSaddr(st.entries[p.ct].reply);
        if (ep0 < 0) ep0 = ep;
        else if (ep !== ep0) epDiff = true;
      }
      outcomes[p.outcome]++;
      packets++;
      const l = p.outcome === O_DROPPED || p.outcome === O_TABLE_FULL;
      lost[i] = l ? 1 : 0;
      if (l) {
        n++;
        dropped++;
        causes[p.cause] = (causes[p.cause] ?? 0) + 1;
      }
    }
    if (n > 0) lossRounds++;
    if (clashed) {
      racedRounds++;
      if (epDiff && n === 0) twoBackends++;
    }
    if (acc) for (let c = 0; c < acc.length; c++) acc[c] += st.stats[c];
    if (!baseline) {
      const ents = st.entries;
      for (let id = b.baselineEntries; id < ents.length; id++) if (ents[id].live) st.release(id);
    }
    return n;
  };

  const attempts = Math.max(1, kn.attempts);
  // Latency histogram in units of lost attempts (0..attempts): resolver timeouts or SYN retransmissions.
  const hist = new Float64Array(attempts + 1);
  let failed = 0;
  for (let t = 0; t < opts.trials; t++) {
    if (tcp) {
      // Each connect: a lost SYN is retransmitted after 1 s, 2 s, ... alone (its racing partner is long done).
      race();
      for (let i = 0; i < np; i++) hist[lost[i]]++;
    } else {
      // A lookup: the resolver waits `timeoutS` for a lost answer, then sends the queries again (racing again).
      let k = 0;
      while (k < attempts && race() > 0) k++;
      hist[k]++;
      if (k === attempts) failed++;
    }
  }
  const ms = performance.now() - t0;
  const counters = {} as Record<CounterName, number>;
  if (acc) st.stats.set(acc);
  COUNTER_NAMES.forEach((n, c) => {
    counters[n] = st.total(c);
  });
  const outc = {} as Record<OutcomeName, number>;
  OUTCOME_NAMES.forEach((n, i) => {
    outc[n] = outcomes[i];
  });
  return {
    scenario: b.preset.name,
    variant: b.variant,
    seed,
    trials: opts.trials,
    races,
    packets,
    dropped,
    dropRate: packets ? dropped / packets : 0,
    dropCi: wilson(dropped, packets),
    outcomes: outc,
    causes,
    counters,
    perCpu: st.perCpu(),
    latency: summarizeLatency(Array.from(hist), kn, failed),
    latencyHist: Array.from(hist),
    clashes: outcomes[O_MERGED] + outcomes[O_CLASH_INSERTED] + outcomes[O_DROPPED],
    merged: outcomes[O_MERGED],
    clashInserted: outcomes[O_CLASH_INSERTED],
    droppedAtConfirm: outcomes[O_DROPPED],
    dropGivenClash: outcomes[O_DROPPED] / Math.max(1, outcomes[O_MERGED] + outcomes[O_CLASH_INSERTED] + outcomes[O_DROPPED]),
    racedRounds,
    lossRounds,
    twoBackends,
    twoBackendsShare: racedRounds ? twoBackends / racedRounds : 0,
    ms,
    trialsPerSec: opts.trials / (ms / 1000),
  };
}

/** Latency summary of a histogram of lost attempts: glibc waits the whole timeout per lost answer, musl resends every timeout/attempts; TCP backs off 1, 2, 4 s. */
export function summarizeLatency(hist: readonly number[], kn: ScenarioKnobs, failed: number): LatencySummary {
  const tcp = kn.proto === 'tcp';
  const attempts = hist.length - 1;
  const samples = hist.reduce((a, b) => a + b, 0);
  const retry = kn.libc === 'musl' ? kn.timeoutS / Math.max(1, attempts) : kn.timeoutS;
  const extra = tcp ? 0 : kn.tcDelayMs / 1000;
  const lat = (k: number) => (tcp ? kn.timeoutS * (2 ** k - 1) : retry * k + extra);
  const quant = (q: number) => {
    let acc = 0;
    for (let k = 0; k <= attempts; k++) {
      acc += hist[k];
      if (acc >= q * samples) return lat(k);
    }
    return lat(attempts);
  };
  let mean = 0;
  for (let k = 0; k <= attempts; k++) mean += hist[k] * lat(k);
  const delayed = samples - hist[0];
  return {
    unit: tcp ? 'connect' : 'lookup',
    samples,
    delayed,
    delayedRate: samples ? delayed / samples : 0,
    delayedCi: wilson(delayed, samples),
    failed,
    meanS: samples ? mean / samples : 0,
    p50S: quant(0.5),
    p99S: quant(0.99),
  };
}

export function monteCarloScenario(scenario: string, variant: ModelVariantId, opts: McOptions): McResult {
  const preset = getScenario(scenario);
  return monteCarloBuilt(buildScenario(preset, variant, opts.overrides, opts.seed ?? 1), opts);
}

// Keep NC/PH_DNAT/TCP referenced for readers: the cost table is indexed by phase.
void NC;
void PH_DNAT;
void TCP;
void Packet;

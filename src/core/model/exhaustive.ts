// Exhaustive engine: every interleaving of the racing packets' steps and every nondeterministic
// choice (endpoint picks, random port offsets). Counts stay exact: the recursion is memoised on
// a fingerprint of the state (table + packets, not counters), which is sound because counters
// never influence a later step. Counter totals are carried as sums over schedules.

import { ScriptChooser } from './rng';
import { COUNTER_NAMES, ModelState, NC, type CounterName } from './state';
import { OUTCOME_NAMES, O_DROPPED, O_TABLE_FULL, Packet, PHASE_NAMES } from './packet';
import { runStep, type StepCtx, type TraceEvent } from './steps';
import { buildScenario, getScenario, runnable, type BuiltScenario, type ScenarioKnobs } from './scenarios';
import type { ModelVariantId } from './variants';

interface Summary {
  /** Schedules (paths) from here to the end. */
  n: number;
  /** Signature -> [schedules, probability under a uniformly random scheduler and uniform choices]. */
  sigs: Map<string, [number, number]>;
  /** Counter increments summed over all schedules from here. */
  cnt: Float64Array;
}

interface Node {
  st: ModelState;
  pkts: Packet[];
}

export interface ScheduleTrace {
  /** e.g. "P0:lookup P1:lookup P0:snat ..." */
  schedule: string;
  outcome: string;
  events: TraceEvent[];
}

export interface ExhaustiveResult {
  scenario: string;
  variant: ModelVariantId;
  packets: number;
  schedules: number;
  dropSchedules: number;
  /** Probability that some packet drops, for a scheduler picking a runnable CPU uniformly at each step. */
  dropProbability: number;
  /** Probability that a packet met a clash at confirm (merged, clash-inserted or dropped there). */
  clashProbability: number;
  /** P(drop | clash) under the same random scheduler: drops at confirm over clashes. */
  dropGivenClash: number;
  /** Probability that the racing packets were answered by two different endpoints (DNAT). */
  twoBackendsProbability: number;
  /** Outcome signature (per packet, in packet order) -> schedules. */
  outcomes: Record<string, number>;
  /** Drop cause -> schedules in which a packet dropped for it. */
  causes: Record<string, number>;
  /** Counter totals summed over all schedules (kernel names). */
  counters: Record<CounterName, number>;
  traces: ScheduleTrace[];
  /** Distinct states visited (memo size) or nodes expanded without dedup. */
  states: number;
  ms: number;
}

export interface ExhaustiveOptions {
  /** Memoise on state fingerprints (default true). false is the naive baseline. */
  dedup?: boolean;
  /** Dropping schedules to return as traces (default 6). */
  maxTraces?: number;
  overrides?: Partial<ScenarioKnobs>;
  /** Refuse to branch on a pick wider than this (default 64). */
  maxArity?: number;
  /** Abort (throw ExhaustiveBudgetError) after expanding this many nodes: for the naive baseline in benches. */
  nodeBudget?: number;
}

export class ExhaustiveBudgetError extends Error {
  constructor(
    public nodes: number,
    public ms: number,
  ) {
    super(`exhaustive: node budget exhausted after ${nodes} nodes (${ms.toFixed(0)} ms)`);
  }
}

const isDrop = (o: number) => o === O_DROPPED || o === O_TABLE_FULL;

function signature(pkts: Packet[]): string {
  return pkts.map((p) => OUTCOME_NAMES[p.outcome] + (p.cause && isDrop(p.outcome) ? `:${p.cause}` : '')).join(',');
}

function fingerprint(nd: Node): string {
  let s = nd.st.fingerprint();
  for (const p of nd.pkts) s += '/' + p.fingerprint();
  return s;
}

function cloneNode(nd: Node): Node {
  return { st: nd.st.clone(), pkts: nd.pkts.map((p) => p.clone()) };
}

/** Every leaf of the choice tree of one step of packet i: [child, weight]. */
function expandStep(
  nd: Node,
  i: number,
  addrs: readonly string[],
  maxArity: number,
  trace: boolean,
): { child: Node; w: number; events: TraceEvent[] | null }[] {
  const ch = new ScriptChooser();
  const out: { child: Node; w: number; events: TraceEvent[] | null }[] = [];
  let script: number[] = [];
  for (;;) {
    const child = cloneNode(nd);
    ch.reset(script);
    const ctx: StepCtx = { ch, trace: trace ? [] : null, addrs };
    runStep(child.st, child.pkts[i], ctx);
    const used = ch.arity.map((_, j) => (j < script.length ? script[j] : 0));
    let w = 1;
    for (const a of ch.arity) {
      if (a > maxArity) throw new Error(`exhaustive: a step chooses among ${a} alternatives (> ${maxArity}); lower portRange/endpoints`);
      w /= Math.max(1, a);
    }
    out.push({ child, w, events: ctx.trace });
    let j = used.length - 1;
    while (j >= 0 && used[j] >= ch.arity[j] - 1) j--;
    if (j < 0) break;
    script = [...used.slice(0, j), used[j] + 1];
  }
  return out;
}

export function exploreBuilt(b: BuiltScenario, opts: ExhaustiveOptions = {}): ExhaustiveResult {
  const t0 = performance.now();
  const dedup = opts.dedup !== false;
  const maxArity = opts.maxArity ?? 64;
  const budget = opts.nodeBudget ?? Infinity;
  const memo = new Map<string, Summary>();
  let expanded = 0;
  const run = new Array<number>(b.packets.length);

  const solve = (nd: Node, key: string | null): Summary => {
    if (dedup && key !== null) {
      const m = memo.get(key);
      if (m) return m;
    }
    if (++expanded > budget) throw new ExhaustiveBudgetError(expanded, performance.now() - t0);
    const nr = runnable(b, nd.pkts, run);
    const acc: Summary = { n: 0, sigs: new Map(), cnt: new Float64Array(NC) };
    if (nr === 0) {
      acc.n = 1;
      acc.sigs.set(signature(nd.pkts), [1, 1]);
    } else {
      const who = run.slice(0, nr);
      const parent = nd.st.stats;
      const ncpu = nd.st.cfg.cpus;
      for (const i of who) {
        for (const { child, w } of expandStep(nd, i, b.addrs, maxArity, false)) {
          const s = solve(child, dedup ? fingerprint(child) : null);
          acc.n += s.n;
          const pw = w / nr;
          for (const [sig, [cn, cp]] of s.sigs) {
            const cur = acc.sigs.get(sig);
            if (cur) {
              cur[0] += cn;
              cur[1] += cp * pw;
            } else acc.sigs.set(sig, [cn, cp * pw]);
          }
          // Increments of this step (summed over CPUs), once per schedule passing through it.
          const cs = child.st.stats;
          for (let c = 0; c < NC; c++) {
            let d = 0;
            for (let k = 0; k < ncpu; k++) d += cs[k * NC + c] - parent[k * NC + c];
            acc.cnt[c] += s.cnt[c] + d * s.n;
          }
        }
      }
    }
    if (dedup && key !== null) memo.set(key, acc);
    return acc;
  };

  const root: Node = { st: b.state.clone(), pkts: b.packets.map((p) => p.clone()) };
  const sum = solve(root, fingerprint(root));

  const outcomes: Record<string, number> = {};
  const causes: Record<string, number> = {};
  let dropSchedules = 0;
  let dropProbability = 0;
  let clashP = 0,
    clashDropP = 0,
    twoP = 0;
  for (const [sig, [n, p]] of sum.sigs) {
    outcomes[sig] = n;
    const parts = sig.split(',');
    if (parts.some((x) => x === 'merged' || x === 'clash-inserted' || x.startsWith('dropped'))) {
      clashP += p;
      if (parts.some((x) => x.startsWith('dropped'))) clashDropP += p;
    }
    if (parts.includes('clash-inserted') && !parts.some((x) => x.startsWith('dropped') || x.startsWith('table-full'))) twoP += p;
    const dropped = parts.filter((x) => x.startsWith('dropped') || x.startsWith('table-full'));
    if (dropped.length) {
      dropSchedules += n;
      dropProbability += p;
    }
    for (const c of new Set(dropped.map((x) => x.split(':')[1] ?? 'unknown'))) causes[c] = (causes[c] ?? 0) + n;
  }
  const counters = {} as Record<CounterName, number>;
  COUNTER_NAMES.forEach((name, c) => {
    counters[name] = sum.cnt[c];
  });

  const traces = collectTraces(b, root, opts.maxTraces ?? 6, dedup ? memo : null, maxArity);
  return {
    scenario: b.preset.name,
    variant: b.variant,
    packets: b.packets.length,
    schedules: sum.n,
    dropSchedules,
    dropProbability,
    clashProbability: clashP,
    dropGivenClash: clashP > 0 ? clashDropP / clashP : 0,
    twoBackendsProbability: b.knobs.endpoints > 1 ? twoP : 0,
    outcomes,
    causes,
    counters,
    traces,
    states: dedup ? memo.size : expanded,
    ms: performance.now() - t0,
  };
}

/** Walk the schedule tree again, descending only where a drop is reachable, and record step traces. */
function collectTraces(b: BuiltScenario, root: Node, max: number, memo: Map<string, Summary> | null, maxArity: number): ScheduleTrace[] {
  const out: ScheduleTrace[] = [];
  if (max <= 0) return out;
  const run = new Array<number>(b.packets.length);
  const canDrop = (nd: Node): boolean => {
    if (!memo) return true;
    const s = memo.get(fingerprint(nd));
    if (!s) return true;
    for (const sig of s.sigs.keys()) if (sig.includes('dropped') || sig.includes('table-full')) return true;
    return false;
  };
  const walk = (nd: Node, steps: string[], events: TraceEvent[]) => {
    if (out.length >= max) return;
    const nr = runnable(b, nd.pkts, run);
    if (nr === 0) {
      if (nd.pkts.some((p) => isDrop(p.outcome)))
        out.push({ schedule: steps.join(' '), outcome: signature(nd.pkts), events: events.slice() });
      return;
    }
    for (const i of run.slice(0, nr)) {
      const phase = PHASE_NAMES[nd.pkts[i].phase];
      for (const leaf of expandStep(nd, i, b.addrs, maxArity, true)) {
        if (out.length >= max) return;
        if (!canDrop(leaf.child)) continue;
        walk(leaf.child, [...steps, `P${i}:${phase}`], [...events, ...(leaf.events ?? [])]);
      }
    }
  };
  walk(root, [], []);
  return out;
}

export function exploreScenario(scenario: string, variant: ModelVariantId, opts: ExhaustiveOptions = {}): ExhaustiveResult {
  const preset = getScenario(scenario);
  const b = buildScenario(preset, variant, { ...preset.exhaustive, ...opts.overrides });
  return exploreBuilt(b, opts);
}

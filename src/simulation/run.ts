// Runs one panel request on the host: Monte Carlo for both variants in fixed-size chunks (the
// event loop gets a turn between chunks, so progress is posted and cancel is honoured), a knob
// sweep, the exhaustive explorer, and for the overflow preset the timed run. No vscode import.
//
// Chunk i uses its own seed (chunk 0 uses the request's seed), and chunks have a fixed size, so a
// run is reproducible for a seed whatever the machine speed; a run of <= CHUNK trials equals the
// CLI's `simulate --seed S --trials N`.

import { buildScenario, effectiveKnobs, getScenario, type ScenarioKnobs, type ScenarioPreset } from '../core/model/scenarios';
import { exploreBuilt, ExhaustiveBudgetError } from '../core/model/exhaustive';
import { monteCarloBuilt, type LatencySummary, type McResult } from '../core/model/montecarlo';
import { runOverflow } from '../core/model/overflow';
import { wilson } from '../core/model/rng';
import { COUNTER_NAMES, type CounterName } from '../core/model/state';
import { variantInfo, type ModelVariantId } from '../core/model/variants';
import { MITIGATIONS, mitigationRow, mitigationsUnavailable, mitigationVerdict, type MitigationRow } from '../core/model/mitigations';
import type { DetectionSummary, MonteCarloView, PanelResult, RunRequest, SweepView, VariantColumn, WorkaroundsView } from './protocol';
import {
  columnSpecs,
  counterTable,
  eraColumns,
  exhaustiveOverrides,
  exhaustiveView,
  latencyView,
  mcOverrides,
  overflowOptions,
  overflowView,
  scenarioSummary,
  sweepSpec,
  sweepTrials,
  whatIfLabel,
  type ColumnSpec,
} from './shape';

export const CHUNK = 10_000;
/** Bounds the explorer: it runs synchronously on the host, and 50k states take about a second. */
export const EXHAUSTIVE_NODE_BUDGET = 50_000;

export class RunCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export interface RunHooks {
  signal: { cancelled: boolean };
  onProgress?: (done: number, total: number, phase: string) => void;
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export function chunkSeed(seed: number, i: number): number {
  return i === 0 ? seed >>> 0 : (seed + Math.imul(i, 0x9e3779b9)) >>> 0;
}

interface Progress {
  done: number;
  total: number;
  hooks: RunHooks;
}

function tick(p: Progress, n: number, phase: string): void {
  p.done += n;
  p.hooks.onProgress?.(Math.min(p.done, p.total), p.total, phase);
}

export interface MergedMc {
  trials: number;
  races: number;
  packets: number;
  dropped: number;
  causes: Record<string, number>;
  perCpu: Record<CounterName, number>[];
  latency: LatencySummary;
  ms: number;
}

/**
 * Latency of merged chunks. Counts and the mean merge exactly; percentiles are read from a
 * histogram rebuilt from (delayed, failed), which is exact for TCP (one retransmission level per
 * sample in this model) and for DNS with <= 2 attempts, and a lower bound beyond.
 */
export function mergeLatency(parts: LatencySummary[], timeoutS: number, attempts: number): LatencySummary {
  const unit = parts[0]?.unit ?? 'lookup';
  const samples = parts.reduce((s, l) => s + l.samples, 0);
  const delayed = parts.reduce((s, l) => s + l.delayed, 0);
  const failed = parts.reduce((s, l) => s + l.failed, 0);
  const meanS = samples ? parts.reduce((s, l) => s + l.meanS * l.samples, 0) / samples : 0;
  const a = Math.max(1, attempts);
  const hist = new Array<number>(a + 1).fill(0);
  hist[0] = samples - delayed;
  if (unit === 'connect') hist[1] += delayed;
  else {
    hist[a] += failed;
    hist[1] += delayed - failed;
  }
  const lat = (k: number) => (unit === 'connect' ? timeoutS * (2 ** k - 1) : timeoutS * k);
  const quant = (q: number) => {
    let acc = 0;
    for (let k = 0; k <= a; k++) {
      acc += hist[k];
      if (acc >= q * samples) return lat(k);
    }
    return lat(a);
  };
  return {
    unit,
    samples,
    delayed,
    delayedRate: samples ? delayed / samples : 0,
    delayedCi: wilson(delayed, samples),
    failed,
    meanS,
    p50S: quant(0.5),
    p99S: quant(0.99),
  };
}

/** Monte Carlo in chunks over one built scenario; counters are the state's increments. */
export async function chunkedMonteCarlo(
  preset: ScenarioPreset,
  variant: ModelVariantId,
  overrides: Partial<ScenarioKnobs>,
  trials: number,
  seed: number,
  prog: Progress,
  phase: string,
): Promise<MergedMc> {
  const t0 = performance.now();
  const b = buildScenario(preset, variant, overrides, seed);
  // The state keeps its per-CPU counters across calls; subtract what was there before.
  const base = b.state.perCpu();
  const out: MergedMc = { trials: 0, races: 0, packets: 0, dropped: 0, causes: {}, perCpu: [], latency: undefined!, ms: 0 };
  const lats: LatencySummary[] = [];
  let last: McResult | undefined;
  for (let i = 0; out.trials < trials; i++) {
    if (prog.hooks.signal.cancelled) throw new RunCancelled();
    const n = Math.min(CHUNK, trials - out.trials);
    const r = monteCarloBuilt(b, { trials: n, seed: chunkSeed(seed, i) });
    out.trials += n;
    out.races += r.races;
    out.packets += r.packets;
    out.dropped += r.dropped;
    for (const [c, v] of Object.entries(r.causes)) out.causes[c] = (out.causes[c] ?? 0) + v;
    lats.push(r.latency);
    last = r;
    tick(prog, n, phase);
    await nextTurn();
  }
  const now = last ? last.perCpu : base;
  out.perCpu = now.map((row, cpu) => {
    const o = {} as Record<CounterName, number>;
    for (const name of COUNTER_NAMES) o[name] = row[name] - (base[cpu]?.[name] ?? 0);
    return o;
  });
  out.latency = mergeLatency(lats, b.knobs.timeoutS, b.knobs.attempts);
  out.ms = performance.now() - t0;
  return out;
}

function mcView(m: MergedMc, era: 'pre2020' | 'post2020', timeoutS: number, attempts: number): MonteCarloView {
  return {
    trials: m.trials,
    races: m.races,
    packets: m.packets,
    dropped: m.dropped,
    dropRate: m.packets ? m.dropped / m.packets : 0,
    dropCi: wilson(m.dropped, m.packets),
    causes: m.causes,
    latency: latencyView(m.latency, timeoutS, attempts),
    counters: counterTable(m.perCpu, eraColumns(era)),
    trialsPerSec: m.ms > 0 ? m.trials / (m.ms / 1000) : 0,
  };
}

/** Progress units of one timed overflow run: its expected flows, weighted like Monte Carlo trials. */
export function overflowUnits(req: RunRequest): number {
  const ov = req.overflow;
  return ov ? Math.max(1, Math.round((ov.flowRate * ov.durationS) / 4)) : 0;
}

async function column(spec: ColumnSpec, req: RunRequest, preset: ScenarioPreset, prog: Progress): Promise<VariantColumn> {
  const { role, variant, whatIf } = spec;
  const info = variantInfo(variant);
  const era = info.behaviour.counterEra;
  const label = req.overflow ? `${info.label}, ${whatIfLabel(whatIf)}` : info.label;
  const mc = await chunkedMonteCarlo(preset, variant, mcOverrides(req, whatIf), req.trials, req.seed, prog, `Monte Carlo, ${label}`);
  const { overrides, shrunk } = exhaustiveOverrides(req, preset, whatIf);
  let exhaustive: VariantColumn['exhaustive'];
  try {
    const b = buildScenario(preset, variant, overrides, req.seed);
    exhaustive = exhaustiveView(exploreBuilt(b, { maxTraces: 6, nodeBudget: EXHAUSTIVE_NODE_BUDGET }), shrunk);
  } catch (err) {
    const message =
      err instanceof ExhaustiveBudgetError
        ? `more than ${EXHAUSTIVE_NODE_BUDGET.toLocaleString('en-US')} states: lower racing packets or endpoints to enumerate`
        : String((err as Error).message ?? err);
    exhaustive = {
      packets: req.knobs.packets,
      schedules: 0,
      dropSchedules: 0,
      dropProbability: 0,
      causes: {},
      traces: [],
      shrunk,
      error: message,
    };
  }
  tick(prog, 1, `exhaustive, ${label}`);
  await nextTurn();
  let overflow: VariantColumn['overflow'];
  if (preset.kind === 'overflow' && req.overflow) {
    // One synchronous run (it has no chunks to yield between): progress comes once per
    // simulated second; in a worker, cancel terminates it.
    const units = overflowUnits(req);
    let reported = 0;
    const phase = `timed overflow run, ${label}`;
    const o = runOverflow(variant, {
      ...overflowOptions(req, whatIf),
      onProgress: (t, d) => {
        const u = Math.floor((units * t) / d);
        if (u > reported) {
          tick(prog, u - reported, phase);
          reported = u;
        }
      },
    });
    if (reported < units) tick(prog, units - reported, phase);
    overflow = overflowView(o, req.overflow.durationS, era);
    await nextTurn();
  }
  // The knobs the packets actually ran with (resolver options rewrite some, see effectiveKnobs).
  const knobs = effectiveKnobs({ ...preset.knobs, ...mcOverrides(req) });
  return {
    role,
    variant,
    label: info.label,
    commits: info.commits,
    hypothesis: info.hypothesis,
    counterEra: era,
    whatIf,
    mc: mcView(mc, era, knobs.timeoutS, knobs.attempts),
    exhaustive,
    overflow,
  };
}

export async function runSweep(
  req: RunRequest,
  preset: ScenarioPreset,
  specs: [ColumnSpec, ColumnSpec],
  prog: Progress,
): Promise<SweepView | undefined> {
  const spec = sweepSpec(req.sweep, req);
  if (!spec) return undefined;
  const n = sweepTrials(req.trials);
  const series: SweepView['series'] = [];
  for (const col of specs) {
    const points = [];
    for (const x of spec.values) {
      const m = await chunkedMonteCarlo(
        preset,
        col.variant,
        { ...mcOverrides(req, col.whatIf), [spec.knob]: x },
        n,
        req.seed,
        prog,
        `sweep ${spec.label} = ${x}`,
      );
      const [lo, hi] = wilson(m.dropped, m.packets);
      points.push({ x, rate: m.packets ? m.dropped / m.packets : 0, lo, hi });
    }
    series.push({ role: col.role, variant: col.variant, whatIf: col.whatIf, points });
  }
  return { knob: spec.knob, label: spec.label, series };
}

/** Lookups per mitigation row and variant: a quarter of the run's trials, at least 10 000. */
export const workaroundTrials = (trials: number): number => Math.max(10_000, Math.round(trials / 4));

/**
 * "Can I drop my workaround?": each mitigation on its own over the form's knobs, for the two
 * columns' variants (the tree and after the backport), one row at a time with a turn between.
 */
export async function runWorkarounds(
  req: RunRequest,
  variants: [ModelVariantId, ModelVariantId],
  prog: Progress,
): Promise<WorkaroundsView | undefined> {
  if (!req.workarounds) return undefined;
  const [before, after] = variants;
  const n = workaroundTrials(req.trials);
  const view: WorkaroundsView = {
    before: { variant: before, label: variantInfo(before).label },
    after: { variant: after, label: variantInfo(after).label },
    trials: n,
    timeoutS: req.knobs.timeoutS,
    rows: [],
  };
  const why = mitigationsUnavailable(req.scenario);
  if (why) return { ...view, unavailable: why };
  const rows: MitigationRow[] = [];
  for (const m of MITIGATIONS) {
    if (prog.hooks.signal.cancelled) throw new RunCancelled();
    rows.push(mitigationRow(m, req.scenario, before, after, mcOverrides(req), n, req.seed, rows[0]?.after ?? 0));
    tick(prog, (before === after ? 1 : 2) * n, `workarounds: ${m.label}`);
    await nextTurn();
  }
  view.rows = rows.map((r) => ({
    id: r.id,
    label: r.label,
    before: r.before,
    after: r.after,
    meanBeforeS: r.meanBeforeS,
    meanAfterS: r.meanAfterS,
    verdict: mitigationVerdict(r, rows[0], n),
  }));
  return view;
}

/** Everything but source links (the host resolves those against the tree's files). */
export async function runSimulation(
  runId: number,
  req: RunRequest,
  detection: DetectionSummary | undefined,
  hooks: RunHooks,
): Promise<Omit<PanelResult, 'sources'>> {
  const t0 = performance.now();
  const preset = getScenario(req.scenario);
  // A validated request carries overflow knobs only for an overflow preset; be strict anyway.
  if (preset.kind !== 'overflow') req = { ...req, overflow: undefined };
  const { comparison, columns } = columnSpecs(req, detection);
  const spec = sweepSpec(req.sweep, req);
  const perColumn = 1 + overflowUnits(req);
  const total =
    2 * (req.trials + perColumn) +
    (spec ? 2 * spec.values.length * sweepTrials(req.trials) : 0) +
    (req.workarounds && !mitigationsUnavailable(req.scenario)
      ? (columns[0].variant === columns[1].variant ? 1 : 2) * MITIGATIONS.length * workaroundTrials(req.trials)
      : 0);
  const prog: Progress = { done: 0, total, hooks };
  hooks.onProgress?.(0, total, 'starting');
  const before = await column(columns[0], req, preset, prog);
  const after = await column(columns[1], req, preset, prog);
  const sweep = await runSweep(req, preset, columns, prog);
  const workarounds = await runWorkarounds(req, [columns[0].variant, columns[1].variant], prog);
  return {
    runId,
    request: req,
    scenario: scenarioSummary(preset),
    detection: req.variants.mode === 'detected' ? detection : undefined,
    columns: [before, after],
    comparison,
    sweep,
    ...(workarounds ? { workarounds } : {}),
    ms: performance.now() - t0,
  };
}

// Host-side pure logic of the simulation panel: validating what the page asks for, choosing the
// "after backport" variant, and turning engine results into the page's view types. No vscode
// import, so node:test covers all of it.

import { mitigationsUnavailable } from '../core/model/mitigations';
import { COUNTER_NAMES, NO_WHATIF, type CounterName, type WhatIf } from '../core/model/state';
import { MODEL_VARIANT_IDS, isModelVariantId, modelVariantFromDetection, variantInfo, type ModelVariantId } from '../core/model/variants';
import { SCENARIOS, SCENARIO_NAMES, getScenario, type ScenarioKnobs, type ScenarioPreset } from '../core/model/scenarios';
import type { ExhaustiveResult } from '../core/model/exhaustive';
import type { LatencySummary } from '../core/model/montecarlo';
import type { OverflowOptions, OverflowResult } from '../core/model/overflow';
import type { DetectionResult } from '../core/types';
import type {
  CounterTable,
  DetectionSummary,
  EditableKnobs,
  ExhaustiveView,
  LaneTrace,
  LatencyView,
  NumericRange,
  OverflowKnobs,
  OverflowView,
  RunRequest,
  ScenarioSummary,
  SweepKnob,
  VariantSummary,
} from './protocol';

export const RANGES: Record<string, NumericRange> = {
  packets: { min: 1, max: 4, integer: true, label: 'Racing packets' },
  cpus: { min: 1, max: 64, integer: true, label: 'CPUs' },
  skewUs: { min: 0, max: 10_000, integer: false, label: 'Send skew', unit: 'µs' },
  stepCostUs: { min: 0.05, max: 1_000, integer: false, label: 'Step cost', unit: 'µs' },
  endpoints: { min: 0, max: 16, integer: true, label: 'DNAT endpoints' },
  portRange: { min: 1, max: 64_512, integer: true, label: 'NAT port range' },
  occupiedPorts: { min: 0, max: 64_511, integer: true, label: 'Ports already held' },
  timeoutS: { min: 0.1, max: 60, integer: false, label: 'Timeout / first RTO', unit: 's' },
  attempts: { min: 1, max: 10, integer: true, label: 'Attempts' },
  tcDelayMs: { min: 0, max: 1_000, integer: false, label: 'tc netem delay', unit: 'ms' },
  trials: { min: 100, max: 5_000_000, integer: true, label: 'Trials' },
  seed: { min: 0, max: 0xffff_ffff, integer: true, label: 'Seed' },
  // Table overflow, timed run (OverflowKnobs).
  max: { min: 16, max: 1_000_000, integer: true, label: 'nf_conntrack_max' },
  buckets: { min: 1, max: 262_144, integer: true, label: 'Hash buckets' },
  flowRate: { min: 0.1, max: 100_000, integer: false, label: 'New flows', unit: '/s' },
  udpFraction: { min: 0, max: 1, integer: false, label: 'UDP (DNS) share', unit: '0-1' },
  durationS: { min: 1, max: 86_400, integer: false, label: 'Duration', unit: 's' },
  tcpLifetimeS: { min: 0.1, max: 86_400, integer: false, label: 'TCP lifetime', unit: 's' },
  softTimeout: { min: 0, max: 86_400, integer: false, label: 'Soft timeout while full', unit: 's, 0 off' },
  adaptiveThreshold: { min: 0, max: 0.99, integer: false, label: 'Adaptive timeouts above', unit: '0-1, 0 off' },
};

/**
 * The timed run steps every flow on the host (about 350k flows/s here); this bound keeps one
 * column under ~10 s so an accidental 100k/s x 1 day cannot pin a CPU for hours.
 */
export const MAX_OVERFLOW_FLOWS = 3_000_000;

const SNAT_MODES = ['masquerade', 'null-binding', 'none'] as const;
const PORT_MODES = ['default', 'random', 'random-fully'] as const;
const RESOLVERS = ['default', 'single-request', 'single-request-reopen', 'use-vc'] as const;
const DNAT_MODES = ['random', 'nth'] as const;
const LIBCS = ['glibc', 'musl'] as const;
export const SWEEP_KNOBS: readonly SweepKnob[] = ['skewUs', 'packets', 'cpus', 'none'];

const EDITABLE: (keyof EditableKnobs)[] = [
  'packets',
  'cpus',
  'skewUs',
  'stepCostUs',
  'endpoints',
  'snat',
  'portMode',
  'portRange',
  'occupiedPorts',
  'resolver',
  'timeoutS',
  'attempts',
  'dnatMode',
  'libc',
  'nodeLocalDns',
  'tcDelayMs',
];

export function editableKnobs(k: ScenarioKnobs): EditableKnobs {
  const o = {} as Record<string, unknown>;
  for (const key of EDITABLE) o[key] = k[key];
  return o as unknown as EditableKnobs;
}

/** What the paper proposes, all switched on: the panel's first what-if comparison shows all three. */
export const PAPER_WHATIF: WhatIf = { earlyDropClosing: true, softTimeout: 30, adaptiveThreshold: 0.8 };

/**
 * Timed-run defaults of an overflow preset. The preset's own max/buckets (4/2) size the race
 * form's tiny table; the timed run uses the model's default table (4096, max/4 buckets).
 */
export function overflowDefaults(preset: ScenarioPreset): OverflowKnobs | undefined {
  if (preset.kind !== 'overflow') return undefined;
  const k = preset.knobs;
  return {
    max: 4096,
    buckets: 1024,
    flowRate: k.flowRate,
    udpFraction: k.udpFraction,
    durationS: k.durationS,
    tcpLifetimeS: k.tcpLifetimeS,
    whatIf: { ...PAPER_WHATIF },
    compare: 'whatif',
  };
}

export function scenarioSummary(s: ScenarioPreset): ScenarioSummary {
  return {
    name: s.name,
    title: s.title,
    description: s.description,
    races: [...s.races],
    kind: s.kind,
    knobs: editableKnobs(s.knobs),
    overflow: overflowDefaults(s),
  };
}

export function scenarioSummaries(): ScenarioSummary[] {
  return SCENARIOS.map(scenarioSummary);
}

export function variantSummaries(): VariantSummary[] {
  return MODEL_VARIANT_IDS.map((id) => {
    const v = variantInfo(id);
    return { id, label: v.label, hypothesis: v.hypothesis };
  });
}

/**
 * The tree after the planned backport: pre-rework trees get both upstream fixes (the azure
 * pair is reverted, then the upstream commits picked); rework trees already contain them.
 */
export function afterBackport(v: ModelVariantId): ModelVariantId {
  if (v === 'rework2020' || v === 'reverse2024' || v === 'both+zone') return v;
  return 'both';
}

export function summarizeDetection(d: DetectionResult | undefined): DetectionSummary | undefined {
  if (!d) return undefined;
  const m = modelVariantFromDetection(d);
  return { file: d.file, variant: m.variant, after: afterBackport(m.variant), caveats: m.caveats, exact: m.exact };
}

export function defaultRequest(scenario = 'dns-snat', detection?: DetectionSummary): RunRequest {
  const preset = getScenario(scenario);
  const overflow = overflowDefaults(preset);
  return {
    scenario,
    knobs: editableKnobs(preset.knobs),
    variants: detection ? { mode: 'detected' } : { mode: 'manual', before: 'none', after: 'both' },
    trials: 100_000,
    seed: 1,
    sweep: 'skewUs',
    ...(overflow ? { overflow } : {}),
    workarounds: !mitigationsUnavailable(scenario),
  };
}

const presetKnobs = (name: string): Partial<ScenarioKnobs> => SCENARIOS.find((p) => p.name === name)?.knobs ?? {};

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

function num(errors: string[], name: string, v: unknown): number {
  const r = RANGES[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    errors.push(`${r.label}: not a number`);
    return r.min;
  }
  if (r.integer && !Number.isInteger(v)) errors.push(`${r.label}: must be a whole number`);
  if (v < r.min || v > r.max) errors.push(`${r.label}: ${v} outside ${r.min}..${r.max}`);
  return v;
}

function oneOf<T extends string>(errors: string[], name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  errors.push(`${name}: "${String(v)}" is not one of ${allowed.join(', ')}`);
  return allowed[0];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The page is untrusted input (a webview can post anything): rebuild the request field by
 * field from known names and ranges before anything reaches the model.
 */
export function validateRunRequest(raw: unknown, hasDetection: boolean): Validated<RunRequest> {
  const errors: string[] = [];
  if (!isObj(raw)) return { ok: false, errors: ['request: not an object'] };
  const scenario = oneOf(errors, 'scenario', raw.scenario, SCENARIO_NAMES);
  const k = isObj(raw.knobs) ? raw.knobs : {};
  if (!isObj(raw.knobs)) errors.push('knobs: missing');
  const knobs: EditableKnobs = {
    packets: num(errors, 'packets', k.packets),
    cpus: num(errors, 'cpus', k.cpus),
    skewUs: num(errors, 'skewUs', k.skewUs),
    stepCostUs: num(errors, 'stepCostUs', k.stepCostUs),
    endpoints: num(errors, 'endpoints', k.endpoints),
    snat: oneOf(errors, 'snat', k.snat, SNAT_MODES),
    portMode: oneOf(errors, 'portMode', k.portMode, PORT_MODES),
    portRange: num(errors, 'portRange', k.portRange),
    occupiedPorts: num(errors, 'occupiedPorts', k.occupiedPorts),
    resolver: oneOf(errors, 'resolver', k.resolver, RESOLVERS),
    timeoutS: num(errors, 'timeoutS', k.timeoutS),
    attempts: num(errors, 'attempts', k.attempts),
    // Mitigation knobs came later: a request saved without them takes the preset's values.
    dnatMode: k.dnatMode === undefined ? (presetKnobs(scenario).dnatMode ?? 'random') : oneOf(errors, 'dnatMode', k.dnatMode, DNAT_MODES),
    libc: k.libc === undefined ? 'glibc' : oneOf(errors, 'libc', k.libc, LIBCS),
    nodeLocalDns: k.nodeLocalDns === undefined ? false : bool(errors, 'nodeLocalDns', k.nodeLocalDns),
    tcDelayMs: k.tcDelayMs === undefined ? 0 : num(errors, 'tcDelayMs', k.tcDelayMs),
  };
  if (knobs.occupiedPorts >= knobs.portRange && knobs.occupiedPorts > 0)
    errors.push(`Ports already held (${knobs.occupiedPorts}) must be below the port range (${knobs.portRange})`);
  let variants: RunRequest['variants'] = { mode: 'detected' };
  const v = isObj(raw.variants) ? raw.variants : {};
  if (v.mode === 'detected') {
    if (!hasDetection) errors.push('variants: no detected tree (open nf_conntrack_core.c or choose variants by hand)');
  } else if (v.mode === 'manual') {
    const before =
      typeof v.before === 'string' && isModelVariantId(v.before)
        ? v.before
        : (errors.push(`variant "${String(v.before)}" unknown`), 'none' as const);
    const after =
      typeof v.after === 'string' && isModelVariantId(v.after)
        ? v.after
        : (errors.push(`variant "${String(v.after)}" unknown`), 'none' as const);
    variants = { mode: 'manual', before, after };
  } else errors.push('variants: mode must be detected or manual');
  const value: RunRequest = {
    scenario,
    knobs,
    variants,
    trials: num(errors, 'trials', raw.trials),
    seed: num(errors, 'seed', raw.seed),
    sweep: oneOf(errors, 'sweep', raw.sweep, SWEEP_KNOBS),
  };
  if (raw.workarounds !== undefined) value.workarounds = bool(errors, 'workarounds', raw.workarounds);
  // Overflow knobs only matter (and are only kept) for an overflow preset; a missing block
  // there means the preset's defaults, so an older saved request still runs.
  const preset = SCENARIOS.find((p) => p.name === scenario);
  if (preset?.kind === 'overflow')
    value.overflow = raw.overflow === undefined ? overflowDefaults(preset) : validateOverflow(errors, raw.overflow);
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

function bool(errors: string[], name: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  errors.push(`${name}: must be true or false`);
  return false;
}

export function validateOverflow(errors: string[], raw: unknown): OverflowKnobs {
  const o = isObj(raw) ? raw : {};
  if (!isObj(raw)) errors.push('overflow: not an object');
  const w = isObj(o.whatIf) ? o.whatIf : {};
  if (!isObj(o.whatIf)) errors.push('overflow what-ifs: missing');
  const v: OverflowKnobs = {
    max: num(errors, 'max', o.max),
    buckets: num(errors, 'buckets', o.buckets),
    flowRate: num(errors, 'flowRate', o.flowRate),
    udpFraction: num(errors, 'udpFraction', o.udpFraction),
    durationS: num(errors, 'durationS', o.durationS),
    tcpLifetimeS: num(errors, 'tcpLifetimeS', o.tcpLifetimeS),
    whatIf: {
      earlyDropClosing: bool(errors, 'Early drop of closing TCP', w.earlyDropClosing),
      softTimeout: num(errors, 'softTimeout', w.softTimeout),
      adaptiveThreshold: num(errors, 'adaptiveThreshold', w.adaptiveThreshold),
    },
    compare: oneOf(errors, 'overflow compare', o.compare, ['whatif', 'backport'] as const),
  };
  const flows = v.flowRate * v.durationS;
  if (Number.isFinite(flows) && flows > MAX_OVERFLOW_FLOWS) {
    errors.push(
      `New flows × duration = ${Math.round(flows).toLocaleString('en-US')} flows; at most ${MAX_OVERFLOW_FLOWS.toLocaleString('en-US')} per run (lower the rate or the duration)`,
    );
  }
  return v;
}

export const hasWhatIf = (w: WhatIf): boolean => w.earlyDropClosing || w.softTimeout > 0 || w.adaptiveThreshold > 0;

/** "early drop of closing TCP · soft timeout 30 s while full · adaptive timeouts above 80 %" */
export function whatIfLabel(w: WhatIf): string {
  const parts: string[] = [];
  if (w.earlyDropClosing) parts.push('early drop of closing TCP');
  if (w.softTimeout > 0) parts.push(`soft timeout ${w.softTimeout} s while full`);
  if (w.adaptiveThreshold > 0) parts.push(`adaptive timeouts above ${Math.round(w.adaptiveThreshold * 100)} %`);
  return parts.length ? parts.join(' · ') : 'no what-ifs';
}

/** One column of the comparison: which variant, under which table policy. */
export interface ColumnSpec {
  role: 'before' | 'after';
  variant: ModelVariantId;
  whatIf: WhatIf;
}

/**
 * The two columns of a validated request. Race scenarios compare variants; an overflow
 * scenario in 'whatif' mode runs the first variant twice, without and with the what-ifs,
 * because the backport does not touch early drop or timeouts.
 */
export function columnSpecs(
  req: RunRequest,
  detection?: DetectionSummary,
): { comparison: 'backport' | 'whatif'; columns: [ColumnSpec, ColumnSpec] } {
  const [before, after] = resolveVariants(req, detection);
  const ov = req.overflow;
  if (!ov)
    return {
      comparison: 'backport',
      columns: [
        { role: 'before', variant: before, whatIf: NO_WHATIF },
        { role: 'after', variant: after, whatIf: NO_WHATIF },
      ],
    };
  if (ov.compare === 'whatif') {
    return {
      comparison: 'whatif',
      columns: [
        { role: 'before', variant: before, whatIf: NO_WHATIF },
        { role: 'after', variant: before, whatIf: { ...ov.whatIf } },
      ],
    };
  }
  return {
    comparison: 'backport',
    columns: [
      { role: 'before', variant: before, whatIf: { ...ov.whatIf } },
      { role: 'after', variant: after, whatIf: { ...ov.whatIf } },
    ],
  };
}

/** The timed run's options for one column. */
export function overflowOptions(req: RunRequest, whatIf: WhatIf): OverflowOptions {
  const ov = req.overflow;
  if (!ov) throw new Error('not an overflow request');
  return {
    seed: req.seed,
    max: ov.max,
    buckets: ov.buckets,
    overrides: {
      cpus: req.knobs.cpus,
      flowRate: ov.flowRate,
      udpFraction: ov.udpFraction,
      durationS: ov.durationS,
      tcpLifetimeS: ov.tcpLifetimeS,
      whatIf,
    },
  };
}

export function overflowView(o: OverflowResult, durationS: number, era: 'pre2020' | 'post2020'): OverflowView {
  const columns = eraColumns(era);
  return {
    flows: o.flows,
    dropped: o.dropped,
    dropRate: o.dropRate,
    dropCi: o.dropCi,
    droppedUdp: o.droppedUdp,
    droppedTcp: o.droppedTcp,
    earlyDrops: o.earlyDrops,
    fullFraction: o.fullFraction,
    fullSeconds: o.fullFraction * durationS,
    peak: o.peak,
    max: o.max,
    whatIf: o.whatIf,
    counters: { columns, totals: columns.map((c) => o.counters[c] ?? 0) },
  };
}

/** Which two variants a validated request compares. */
export function resolveVariants(req: RunRequest, detection?: DetectionSummary): [ModelVariantId, ModelVariantId] {
  if (req.variants.mode === 'manual') return [req.variants.before, req.variants.after];
  if (!detection) throw new Error('no detection for mode "detected"');
  return [detection.variant, detection.after];
}

/** Race-form overrides; the column's what-ifs act on the race form's table too (overflow preset). */
export function mcOverrides(req: RunRequest, whatIf?: WhatIf): Partial<ScenarioKnobs> {
  return whatIf && req.overflow ? { ...req.knobs, whatIf } : { ...req.knobs };
}

/**
 * The exhaustive engine branches on every port pick, so presets with a 64k port range carry a
 * small stand-in (preset.exhaustive); it wins over the edited knobs and the page says so.
 */
export function exhaustiveOverrides(
  req: RunRequest,
  preset: ScenarioPreset,
  whatIf?: WhatIf,
): { overrides: Partial<ScenarioKnobs>; shrunk: string[] } {
  const ex = preset.exhaustive ?? {};
  const shrunk: string[] = [];
  for (const [key, val] of Object.entries(ex)) {
    const mine = (req.knobs as unknown as Record<string, unknown>)[key];
    if (mine !== undefined && mine !== val) shrunk.push(`${key} ${String(mine)} → ${String(val)}`);
  }
  return { overrides: { ...mcOverrides(req, whatIf), ...ex }, shrunk };
}

/** Columns `conntrack -S` prints in the variant's era: clash_resolve/chaintoolong only after the 2020 rework. */
export function eraColumns(era: 'pre2020' | 'post2020'): CounterName[] {
  return era === 'post2020' ? [...COUNTER_NAMES] : COUNTER_NAMES.filter((n) => n !== 'clash_resolve' && n !== 'chaintoolong');
}

export function counterTable(perCpu: Partial<Record<CounterName, number>>[], columns: CounterName[]): CounterTable {
  const rows = perCpu.map((r, cpu) => ({ cpu, values: columns.map((c) => r[c] ?? 0) }));
  const totals = columns.map((_, i) => rows.reduce((s, r) => s + r.values[i], 0));
  return { columns, rows, totals };
}

/** The first C identifier of a trace label ("get_unique_tuple -> nf_nat_used_tuple" -> get_unique_tuple). */
export function symbolOf(fn: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_]*/.exec(fn.trim())?.[0];
}

export function laneTraces(traces: ExhaustiveResult['traces']): LaneTrace[] {
  return traces.map((t) => {
    const cpus = [...new Set(t.events.map((e) => e.cpu))].sort((a, b) => a - b);
    return {
      schedule: t.schedule,
      outcome: t.outcome,
      cpus,
      events: t.events.map((e) => ({
        cpu: e.cpu,
        packet: e.packet,
        step: e.step,
        fn: e.fn,
        symbol: symbolOf(e.fn),
        note: e.note,
        decisive: !!e.decisive,
      })),
    };
  });
}

export function exhaustiveView(r: ExhaustiveResult, shrunk: string[]): ExhaustiveView {
  return {
    packets: r.packets,
    schedules: r.schedules,
    dropSchedules: r.dropSchedules,
    dropProbability: r.dropProbability,
    causes: r.causes,
    traces: laneTraces(r.traces),
    shrunk,
  };
}

const pct = (x: number) =>
  x >= 0.1 ? `${(x * 100).toFixed(1)} %` : x >= 0.001 ? `${(x * 100).toFixed(2)} %` : `${(x * 100).toFixed(3)} %`;

/** What the drops mean to a user: a lost DNS packet costs the resolver timeout, a lost SYN the RTO. */
export function latencySentence(l: LatencySummary, timeoutS: number, attempts: number): string {
  if (l.samples === 0) return 'no samples';
  if (l.delayed === 0) return `no ${l.unit} was delayed`;
  const oneIn = l.delayedRate > 0 ? Math.max(1, Math.round(1 / l.delayedRate)) : 0;
  const what =
    l.unit === 'lookup' ? `waits at least ${timeoutS} s for a resolver retry` : `waits at least ${timeoutS} s for a SYN retransmission`;
  const fail = l.failed ? `; ${pct(l.failed / l.samples)} fail after ${attempts} attempts` : '';
  return `${pct(l.delayedRate)} of ${l.unit}s (about 1 in ${oneIn.toLocaleString('en-US')}) ${what}; mean ${l.meanS.toFixed(3)} s, p99 ${l.p99S} s${fail}`;
}

export function latencyView(l: LatencySummary, timeoutS: number, attempts: number): LatencyView {
  return { ...l, sentence: latencySentence(l, timeoutS, attempts) };
}

export interface SweepSpec {
  knob: Exclude<SweepKnob, 'none'>;
  label: string;
  values: number[];
}

/** A few values of the swept knob around the ones that matter for 2-4 racing packets. */
export function sweepSpec(knob: SweepKnob, req: RunRequest): SweepSpec | undefined {
  switch (knob) {
    case 'skewUs':
      return { knob, label: 'send skew (µs)', values: [0, 1, 2, 5, 10, 20, 50, 100] };
    case 'packets':
      return { knob, label: 'racing packets (concurrency)', values: [1, 2, 3, 4] };
    case 'cpus':
      return { knob, label: 'CPUs', values: [1, 2, 3, 4].filter((c) => c <= Math.max(4, req.knobs.packets)) };
    default:
      return undefined;
  }
}

/** Sweep points cost trials too: a tenth of the main run each, within bounds. */
export function sweepTrials(trials: number): number {
  return Math.min(20_000, Math.max(1_000, Math.round(trials / 10)));
}

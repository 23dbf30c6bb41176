// Host-side pure logic of the simulation panel: validating what the page asks for, choosing the
// "after backport" variant, and turning engine results into the page's view types. No vscode
// import, so node:test covers all of it.

import { COUNTER_NAMES, type CounterName } from '../core/model/state';
import { MODEL_VARIANT_IDS, isModelVariantId, modelVariantFromDetection, variantInfo, type ModelVariantId } from '../core/model/variants';
import { SCENARIOS, SCENARIO_NAMES, getScenario, type ScenarioKnobs, type ScenarioPreset } from '../core/model/scenarios';
import type { ExhaustiveResult } from '../core/model/exhaustive';
import type { LatencySummary } from '../core/model/montecarlo';
import type { DetectionResult } from '../core/types';
import type {
  CounterTable, DetectionSummary, EditableKnobs, ExhaustiveView, LaneTrace, LatencyView, NumericRange, RunRequest,
  ScenarioSummary, SweepKnob, VariantSummary,
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
  trials: { min: 100, max: 5_000_000, integer: true, label: 'Trials' },
  seed: { min: 0, max: 0xffff_ffff, integer: true, label: 'Seed' },
};

const SNAT_MODES = ['masquerade', 'null-binding', 'none'] as const;
const PORT_MODES = ['default', 'random', 'random-fully'] as const;
const RESOLVERS = ['default', 'single-request', 'single-request-reopen', 'use-vc'] as const;
export const SWEEP_KNOBS: readonly SweepKnob[] = ['skewUs', 'packets', 'cpus', 'none'];

const EDITABLE: (keyof EditableKnobs)[] = [
  'packets', 'cpus', 'skewUs', 'stepCostUs', 'endpoints', 'snat', 'portMode', 'portRange', 'occupiedPorts', 'resolver', 'timeoutS', 'attempts',
];

export function editableKnobs(k: ScenarioKnobs): EditableKnobs {
  const o = {} as Record<string, unknown>;
  for (const key of EDITABLE) o[key] = k[key];
  return o as unknown as EditableKnobs;
}

export function scenarioSummaries(): ScenarioSummary[] {
  return SCENARIOS.map((s) => ({ name: s.name, title: s.title, description: s.description, races: [...s.races], kind: s.kind, knobs: editableKnobs(s.knobs) }));
}

export function variantSummaries(): VariantSummary[] {
  return MODEL_VARIANT_IDS.map((id) => { const v = variantInfo(id); return { id, label: v.label, hypothesis: v.hypothesis }; });
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
  return {
    scenario, knobs: editableKnobs(preset.knobs),
    variants: detection ? { mode: 'detected' } : { mode: 'manual', before: 'none', after: 'both' },
    trials: 100_000, seed: 1, sweep: 'skewUs',
  };
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

function num(errors: string[], name: string, v: unknown): number {
  const r = RANGES[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) { errors.push(`${r.label}: not a number`); return r.min; }
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
  };
  if (knobs.occupiedPorts >= knobs.portRange && knobs.occupiedPorts > 0) errors.push(`Ports already held (${knobs.occupiedPorts}) must be below the port range (${knobs.portRange})`);
  let variants: RunRequest['variants'] = { mode: 'detected' };
  const v = isObj(raw.variants) ? raw.variants : {};
  if (v.mode === 'detected') {
    if (!hasDetection) errors.push('variants: no detected tree (open nf_conntrack_core.c or choose variants by hand)');
  } else if (v.mode === 'manual') {
    const before = typeof v.before === 'string' && isModelVariantId(v.before) ? v.before : (errors.push(`variant "${String(v.before)}" unknown`), 'none' as const);
    const after = typeof v.after === 'string' && isModelVariantId(v.after) ? v.after : (errors.push(`variant "${String(v.after)}" unknown`), 'none' as const);
    variants = { mode: 'manual', before, after };
  } else errors.push('variants: mode must be detected or manual');
  const value: RunRequest = {
    scenario, knobs, variants,
    trials: num(errors, 'trials', raw.trials),
    seed: num(errors, 'seed', raw.seed),
    sweep: oneOf(errors, 'sweep', raw.sweep, SWEEP_KNOBS),
  };
  return errors.length ? { ok: false, errors } : { ok: true, value };
}

/** Which two variants a validated request compares. */
export function resolveVariants(req: RunRequest, detection?: DetectionSummary): [ModelVariantId, ModelVariantId] {
  if (req.variants.mode === 'manual') return [req.variants.before, req.variants.after];
  if (!detection) throw new Error('no detection for mode "detected"');
  return [detection.variant, detection.after];
}

export function mcOverrides(req: RunRequest): Partial<ScenarioKnobs> {
  return { ...req.knobs };
}

/**
 * The exhaustive engine branches on every port pick, so presets with a 64k port range carry a
 * small stand-in (preset.exhaustive); it wins over the edited knobs and the page says so.
 */
export function exhaustiveOverrides(req: RunRequest, preset: ScenarioPreset): { overrides: Partial<ScenarioKnobs>; shrunk: string[] } {
  const ex = preset.exhaustive ?? {};
  const shrunk: string[] = [];
  for (const [key, val] of Object.entries(ex)) {
    const mine = (req.knobs as unknown as Record<string, unknown>)[key];
    if (mine !== undefined && mine !== val) shrunk.push(`${key} ${String(mine)} → ${String(val)}`);
  }
  return { overrides: { ...req.knobs, ...ex }, shrunk };
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
      schedule: t.schedule, outcome: t.outcome, cpus,
      events: t.events.map((e) => ({ cpu: e.cpu, packet: e.packet, step: e.step, fn: e.fn, symbol: symbolOf(e.fn), note: e.note, decisive: !!e.decisive })),
    };
  });
}

export function exhaustiveView(r: ExhaustiveResult, shrunk: string[]): ExhaustiveView {
  return {
    packets: r.packets, schedules: r.schedules, dropSchedules: r.dropSchedules, dropProbability: r.dropProbability,
    causes: r.causes, traces: laneTraces(r.traces), shrunk,
  };
}

const pct = (x: number) => (x >= 0.1 ? `${(x * 100).toFixed(1)} %` : x >= 0.001 ? `${(x * 100).toFixed(2)} %` : `${(x * 100).toFixed(3)} %`);

/** What the drops mean to a user: a lost DNS packet costs the resolver timeout, a lost SYN the RTO. */
export function latencySentence(l: LatencySummary, timeoutS: number, attempts: number): string {
  if (l.samples === 0) return 'no samples';
  if (l.delayed === 0) return `no ${l.unit} was delayed`;
  const oneIn = l.delayedRate > 0 ? Math.max(1, Math.round(1 / l.delayedRate)) : 0;
  const what = l.unit === 'lookup'
    ? `waits at least ${timeoutS} s for a resolver retry`
    : `waits at least ${timeoutS} s for a SYN retransmission`;
  const fail = l.failed ? `; ${pct(l.failed / l.samples)} fail after ${attempts} attempts` : '';
  return `${pct(l.delayedRate)} of ${l.unit}s (about 1 in ${oneIn.toLocaleString('en-US')}) ${what}; mean ${l.meanS.toFixed(3)} s, p99 ${l.p99S} s${fail}`;
}

export function latencyView(l: LatencySummary, timeoutS: number, attempts: number): LatencyView {
  return { ...l, sentence: latencySentence(l, timeoutS, attempts) };
}

export interface SweepSpec { knob: Exclude<SweepKnob, 'none'>; label: string; values: number[] }

/** A few values of the swept knob around the ones that matter for 2-4 racing packets. */
export function sweepSpec(knob: SweepKnob, req: RunRequest): SweepSpec | undefined {
  switch (knob) {
    case 'skewUs': return { knob, label: 'send skew (µs)', values: [0, 1, 2, 5, 10, 20, 50, 100] };
    case 'packets': return { knob, label: 'racing packets (concurrency)', values: [1, 2, 3, 4] };
    case 'cpus': return { knob, label: 'CPUs', values: [1, 2, 3, 4].filter((c) => c <= Math.max(4, req.knobs.packets)) };
    default: return undefined;
  }
}

/** Sweep points cost trials too: a tenth of the main run each, within bounds. */
export function sweepTrials(trials: number): number {
  return Math.min(20_000, Math.max(1_000, Math.round(trials / 10)));
}

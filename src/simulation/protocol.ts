// The one message protocol between the simulation panel's host side (extension) and its page
// (webview). Both sides import only types and constants from here, so the page bundle stays
// free of the model: the page renders, the host runs the model.
//
// Page -> host:  ready, run, cancel, open-source-location, import-stats, state-changed, run-testplan, cancel-testplan
// Host -> page:  init, progress, result, error, stats, detection, testplan, testplan-status
// Host -> worker: run;  worker -> host: progress, result, error (the run off the host's thread)

import type { CounterName } from '../core/model/state';
import type { LatencySummary, McResult } from '../core/model/montecarlo';
import type { OverflowResult } from '../core/model/overflow';
import type { ModelVariantId } from '../core/model/variants';
import type { MitigationRow } from '../core/model/mitigations';
import type { ResolverMode } from '../core/model/scenarios';
import type { DnatMode, PortMode, WhatIf } from '../core/model/state';

export type { WhatIf };

export { SIMULATION_VIEW_TYPE } from '../ids';
export type { TestPlanView, TestPlanRunView, TestPlanRowView } from '../testplan/protocol';
import type { TestPlanView } from '../testplan/protocol';

/** Knobs the panel lets users edit; anything else stays at the preset's value. */
export interface EditableKnobs {
  packets: number;
  cpus: number;
  skewUs: number;
  stepCostUs: number;
  endpoints: number;
  snat: 'masquerade' | 'null-binding' | 'none';
  portMode: PortMode;
  portRange: number;
  occupiedPorts: number;
  resolver: ResolverMode;
  timeoutS: number;
  attempts: number;
  /** How DNAT spreads new flows over the endpoints: statistic random, or round-robin (statistic nth / numgen inc). */
  dnatMode: DnatMode;
  /** Mitigations (page/mitigations.ts): the client's resolver library, NodeLocal DNSCache, tc delay. */
  libc: 'glibc' | 'musl';
  nodeLocalDns: boolean;
  tcDelayMs: number;
}

export type SweepKnob = 'skewUs' | 'packets' | 'cpus' | 'none';

/**
 * Knobs of the table-overflow scenario's timed run (seed 002). Kept apart from EditableKnobs:
 * the race form of that preset runs on its own tiny table, and other scenarios have no table
 * limit at all, so these must never leak into their runs.
 */
export interface OverflowKnobs {
  /** nf_conntrack_max of the timed run. */
  max: number;
  /** Hash buckets (early drop scans 8 of them from the new flow's bucket). */
  buckets: number;
  /** New flows per second. */
  flowRate: number;
  /** Share of new flows that are request/response UDP (DNS); the rest are TCP connections. */
  udpFraction: number;
  durationS: number;
  /** Mean lifetime of a TCP connection before it closes into TIME_WAIT. */
  tcpLifetimeS: number;
  /** The paper's proposals; 0 / false is off. */
  whatIf: WhatIf;
  /**
   * The backport does not change overflow behaviour, so the paper's question is the default:
   * the same variant without and with the selected what-ifs. 'backport' compares the two
   * variants, both under the selected what-ifs.
   */
  compare: 'whatif' | 'backport';
}

export type VariantChoice = { mode: 'detected' } | { mode: 'manual'; before: ModelVariantId; after: ModelVariantId };

export interface RunRequest {
  scenario: string;
  knobs: EditableKnobs;
  variants: VariantChoice;
  trials: number;
  seed: number;
  sweep: SweepKnob;
  /** Only for scenarios of kind 'overflow'; ignored (and dropped by validation) otherwise. */
  overflow?: OverflowKnobs;
  /** "Can I drop my workaround?": also run every mitigation for both variants (DNS race scenarios). */
  workarounds?: boolean;
}

/** Inclusive numeric ranges the host enforces (the page uses them for min/max only). */
export interface NumericRange {
  min: number;
  max: number;
  integer: boolean;
  label: string;
  unit?: string;
}

export interface ScenarioSummary {
  name: string;
  title: string;
  description: string;
  races: string[];
  kind: 'race' | 'overflow';
  knobs: EditableKnobs;
  /** The preset's timed-run knobs (overflow scenarios only). */
  overflow?: OverflowKnobs;
}

export interface VariantSummary {
  id: ModelVariantId;
  label: string;
  hypothesis?: string;
}

export interface DetectionSummary {
  file: string;
  variant: ModelVariantId;
  /** Variant after the planned backport (both fixes; unchanged for rework trees). */
  after: ModelVariantId;
  caveats: string[];
  exact: boolean;
}

/** One event of a dropping schedule, placed in its CPU's lane. */
export interface LaneEvent {
  cpu: number;
  packet: number;
  step: string;
  /** Kernel function as the model names it (may carry a suffix, e.g. "(DNAT)"). */
  fn: string;
  /** The C identifier to open, or undefined if the label has none. */
  symbol?: string;
  note: string;
  decisive: boolean;
}

export interface LaneTrace {
  schedule: string;
  outcome: string;
  cpus: number[];
  events: LaneEvent[];
}

export interface ExhaustiveView {
  packets: number;
  schedules: number;
  dropSchedules: number;
  dropProbability: number;
  causes: Record<string, number>;
  traces: LaneTrace[];
  /** Knobs the explorer had to shrink so every choice can be enumerated. */
  shrunk: string[];
  error?: string;
}

export interface CounterTable {
  /** Column names in `conntrack -S` order for the variant's kernel era. */
  columns: CounterName[];
  rows: { cpu: number; values: number[] }[];
  totals: number[];
}

/** The model's latency summary plus the sentence the page shows. */
export interface LatencyView extends LatencySummary {
  /** Human sentence: "1 in 20 lookups waits 5 s". */
  sentence: string;
}

/** The model's Monte Carlo figures as the page shows them. */
export interface MonteCarloView extends Pick<
  McResult,
  'trials' | 'races' | 'packets' | 'dropped' | 'dropRate' | 'dropCi' | 'causes' | 'trialsPerSec'
> {
  latency: LatencyView;
  counters: CounterTable;
}

/** The model's overflow figures as the page shows them (counters become a table). */
export interface OverflowView extends Pick<
  OverflowResult,
  'flows' | 'dropped' | 'dropRate' | 'dropCi' | 'droppedUdp' | 'droppedTcp' | 'earlyDrops' | 'fullFraction' | 'peak' | 'max'
> {
  /** fullFraction in seconds of the run. */
  fullSeconds: number;
  whatIf: WhatIf;
  /** Totals over all CPUs, in the variant era's column order. */
  counters: { columns: CounterName[]; totals: number[] };
}

export interface VariantColumn {
  role: 'before' | 'after';
  variant: ModelVariantId;
  label: string;
  commits: string[];
  hypothesis?: string;
  counterEra: 'pre2020' | 'post2020';
  /** Table policy the column ran with (what-if switches; all off for race scenarios). */
  whatIf: WhatIf;
  mc: MonteCarloView;
  exhaustive: ExhaustiveView;
  overflow?: OverflowView;
}

export interface SweepPoint {
  x: number;
  rate: number;
  lo: number;
  hi: number;
}

export interface SweepView {
  knob: Exclude<SweepKnob, 'none'>;
  label: string;
  series: { role: 'before' | 'after'; variant: ModelVariantId; whatIf: WhatIf; points: SweepPoint[] }[];
}

/** "Can I drop my workaround?": lookups delayed by a resolver timeout per mitigation, before / after. */
export interface WorkaroundsView {
  before: { variant: ModelVariantId; label: string };
  after: { variant: ModelVariantId; label: string };
  /** Lookups per row and variant. */
  trials: number;
  timeoutS: number;
  /** The core's rows (share of lookups delayed, mean added latency), each with what it means for the workaround. */
  rows: (Omit<MitigationRow, 'stillHelpsAfter'> & { verdict: 'baseline' | 'still needed' | 'can be dropped' | 'adds delays' })[];
  /** Why there is no table (e.g. a TCP or overflow scenario). */
  unavailable?: string;
}

export interface SourceLink {
  file: string;
  line: number;
}

export interface PanelResult {
  runId: number;
  request: RunRequest;
  scenario: ScenarioSummary;
  detection?: DetectionSummary;
  columns: [VariantColumn, VariantColumn];
  /** What the two columns differ in: the variant (backport) or the what-if switches. */
  comparison: 'backport' | 'whatif';
  sweep?: SweepView;
  /** The mitigation table, when the request asked for it and the scenario is a DNS race. */
  workarounds?: WorkaroundsView;
  /** Kernel function -> where the host found it (absent: not found, link disabled). */
  sources: Record<string, SourceLink>;
  ms: number;
}

export interface ImportedStatsView {
  source: string;
  format: 'netlink' | 'proc';
  node: CounterTable;
  /** The model's rows for the detected (or chosen) variant under the same column set. */
  model?: { variant: ModelVariantId; label: string; scenario: string; table: CounterTable; dropRate: number };
  summary: string;
  sentences: string[];
}

/** What the page keeps with setState and the host keeps for a reopened panel. */
export interface SavedState {
  request?: RunRequest;
  result?: PanelResult;
  stats?: ImportedStatsView;
}

export interface InitPayload {
  scenarios: ScenarioSummary[];
  variants: VariantSummary[];
  ranges: Record<string, NumericRange>;
  detection?: DetectionSummary;
  defaults: RunRequest;
  /** State the host kept from an earlier panel (page state wins when both exist). */
  saved?: SavedState;
}

export type PageToHost =
  | { type: 'ready' }
  | { type: 'run'; runId: number; request: RunRequest }
  | { type: 'cancel'; runId: number }
  | { type: 'open-source-location'; fn: string }
  | { type: 'import-stats'; from: 'clipboard' | 'file' | 'input' }
  | { type: 'state-changed'; state: SavedState }
  | { type: 'run-testplan' }
  | { type: 'cancel-testplan' };

export type HostToPage =
  | { type: 'init'; init: InitPayload }
  | { type: 'progress'; runId: number; done: number; total: number; phase: string }
  | { type: 'result'; result: PanelResult }
  | { type: 'error'; runId?: number; message: string }
  | { type: 'cancelled'; runId: number }
  | { type: 'stats'; stats: ImportedStatsView }
  | { type: 'detection'; detection?: DetectionSummary }
  | { type: 'testplan'; view?: TestPlanView }
  | { type: 'testplan-status'; text: string; running: boolean };

/** Host -> worker: one run; a cancel terminates the worker, so there is no cancel message. */
export interface WorkerRun {
  type: 'run';
  runId: number;
  request: RunRequest;
  detection?: DetectionSummary;
}

export type WorkerToHost =
  | { type: 'progress'; runId: number; done: number; total: number; phase: string }
  | { type: 'result'; runId: number; result: Omit<PanelResult, 'sources'> }
  | { type: 'error'; runId: number; message: string };

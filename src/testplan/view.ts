// Building the panel's view of a test plan run (protocol.ts) and the progress arithmetic of the
// editor command. Pure (no vscode): unit tested.

import type { ConfigResult, TestPlanResult } from '../core/testplan';
import type { TestPlanRowView, TestPlanView } from './protocol';

const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

export function testPlanView(r: TestPlanResult, at = new Date()): TestPlanView {
  return {
    tree: r.tree,
    release: r.release,
    trials: r.trials,
    command: r.command,
    totalMs: r.totalMs,
    plan: r.plan ? (r.plan.note ?? r.plan.steps.join('; ')) : undefined,
    at: at.toISOString(),
    runs: r.runs.map((run) => ({
      label: run.label,
      source: run.source,
      variant: run.variant,
      summary: [
        run.build ? (run.build.cached ? 'kernel cached' : `built in ${secs(run.build.buildMs)}`) : 'not built',
        run.boot
          ? `${run.boot.accel}, /init after ${secs(run.boot.bootMs)}, first figure after ${secs(run.boot.firstFigureMs)}, first whole result after ${secs(run.boot.firstResultMs)}, VM ${secs(run.boot.ms)}`
          : '',
      ]
        .filter(Boolean)
        .join('; '),
      error: run.error,
      rows: run.configs.map(rowView),
    })),
  };
}

function rowView(c: ConfigResult): TestPlanRowView {
  return {
    config: c.config,
    title: c.title,
    control: c.control,
    trials: c.replies?.trials ?? null,
    clashes: c.counters?.clashes ?? null,
    drops: c.counters?.drops ?? null,
    lost: c.replies?.lost ?? null,
    pDropGivenClash: c.counters?.pDropGivenClash ?? null,
    twoBackends: c.replies?.twoBackends ?? null,
    modelPDropGivenClash: c.model?.pDropGivenClash ?? null,
    modelLostPerTrial: c.model?.lostPerTrial ?? null,
    diffLostPerTrial: c.diff?.lostPerTrial ?? null,
    error: c.error,
    notes: c.notes,
  };
}

/** Figures of a run that goes on (or was cancelled), per label and configuration in arrival order. */
export interface LiveFigures {
  tree: string;
  release: string;
  trials: number;
  command: string;
  startedAt: number;
  runs: { label: 'before' | 'after'; variant: string; configs: Map<string, ConfigResult> }[];
}

/** The panel's view of figures so far: one row per configuration that has a figure, its trials so far. */
export function liveTestPlanView(l: LiveFigures, state: 'running' | 'cancelled', now = Date.now()): TestPlanView {
  return {
    tree: l.tree,
    release: l.release,
    trials: l.trials,
    command: l.command,
    totalMs: now - l.startedAt,
    at: new Date(now).toISOString(),
    state,
    runs: l.runs.map((r) => ({
      label: r.label,
      source: state === 'running' ? 'figures so far' : 'figures up to the cancel',
      variant: r.variant,
      summary: `${r.configs.size} configuration(s) with figures`,
      rows: [...r.configs.values()].map(rowView),
    })),
  };
}

/** Maps the core's progress phases onto the three stages the editor shows. */
export function stageOf(phase: string): 'build' | 'boot' | 'run' {
  if (phase === 'boot' || phase === 'rootfs') return 'boot';
  if (phase === 'run' || phase === 'model') return 'run';
  return 'build';
}

/**
 * Progress as a fraction of the whole run: each variant (before, after) gets an equal share,
 * split build 40 %, boot 10 %, run 50 % (the run part advances per finished configuration).
 */
export function progressFraction(
  variant: number,
  variants: number,
  stage: 'build' | 'boot' | 'run',
  configsDone: number,
  configs: number,
): number {
  const base = variant / Math.max(1, variants);
  const share = 1 / Math.max(1, variants);
  const within = stage === 'build' ? 0 : stage === 'boot' ? 0.4 : 0.5 + 0.5 * Math.min(1, configsDone / Math.max(1, configs));
  return Math.min(1, base + share * within);
}

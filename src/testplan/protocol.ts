// The test plan's share of the simulation panel protocol: what the panel shows of a run, per
// run (before / after the plan) one row per configuration with the measured figures and the
// model's beside them. Types only (the page bundle imports them); view.ts builds them.

export interface TestPlanRowView {
  config: string;
  title: string;
  control: boolean;
  trials: number | null;
  clashes: number | null;
  drops: number | null;
  lost: number | null;
  pDropGivenClash: number | null;
  twoBackends: number | null;
  modelPDropGivenClash: number | null;
  modelLostPerTrial: number | null;
  /** Measured lost per trial minus the model's. */
  diffLostPerTrial: number | null;
  error?: string;
  notes: string[];
}

export interface TestPlanRunView {
  label: 'before' | 'after';
  source: string;
  variant: string;
  /** "kernel cached" / "built in 41 s", accelerator, time to /init and to the first result. */
  summary: string;
  error?: string;
  rows: TestPlanRowView[];
}

export interface TestPlanView {
  tree: string;
  release: string;
  trials: number;
  command: string;
  totalMs: number;
  plan?: string;
  runs: TestPlanRunView[];
  /** Finished at (ISO time), so a reopened panel says how old the figures are. */
  at: string;
  /** Set while a run goes on (figures so far, as they stream) or after it was cancelled (figures up to then). */
  state?: 'running' | 'cancelled';
}

// The request form: scenario preset, which two variants, editable knobs, trials/seed/sweep.
// It only collects values; the host validates them (ranges here are hints for the inputs).

import type { EditableKnobs, InitPayload, RunRequest, SweepKnob } from '../protocol';
import { h } from './dom';

export interface Form {
  element: HTMLElement;
  read(): RunRequest;
  set(req: RunRequest): void;
  setRunning(running: boolean): void;
}

export interface FormActions { run(): void; cancel(): void; importStats(from: 'clipboard' | 'file' | 'input'): void }

const NUMERIC: (keyof EditableKnobs)[] = ['packets', 'cpus', 'skewUs', 'stepCostUs', 'endpoints', 'portRange', 'occupiedPorts', 'timeoutS', 'attempts'];
const CHOICES: Partial<Record<keyof EditableKnobs, readonly string[]>> = {
  snat: ['masquerade', 'null-binding', 'none'],
  portMode: ['default', 'random', 'random-fully'],
  resolver: ['default', 'single-request', 'single-request-reopen', 'use-vc'],
};
const CHOICE_LABELS: Record<string, string> = { snat: 'SNAT', portMode: 'Port mode', resolver: 'Resolver options' };
const SWEEPS: [SweepKnob, string][] = [['skewUs', 'send skew'], ['packets', 'racing packets'], ['cpus', 'CPUs'], ['none', 'no sweep']];

function select(id: string, options: [string, string][], onChange?: () => void): HTMLSelectElement {
  const el = h('select', { id, onchange: onChange ? () => onChange() : undefined });
  for (const [value, label] of options) el.append(h('option', { value }, label));
  return el;
}

export function createForm(init: InitPayload, actions: FormActions): Form {
  const scenarios = new Map(init.scenarios.map((s) => [s.name, s]));
  const variantOpts = init.variants.map((v): [string, string] => [v.id, v.label]);
  const desc = h('p', { class: 'muted scenario-desc' });
  const numeric = new Map<string, HTMLInputElement>();
  const choice = new Map<string, HTMLSelectElement>();

  const scenario = select('scenario', init.scenarios.map((s) => [s.name, s.title]), () => {
    // A new preset brings its own knob values; variants and run settings stay.
    const cur = read();
    set({ ...cur, scenario: scenario.value, knobs: scenarios.get(scenario.value)!.knobs });
  });
  const mode = select('variant-mode', [['detected', 'Detected tree → after backport'], ['manual', 'Choose variants']], () => syncMode());
  if (!init.detection) (mode.options[0] as HTMLOptionElement).disabled = true;
  const before = select('variant-before', variantOpts);
  const after = select('variant-after', variantOpts);
  const manual = h('span', { class: 'manual-variants' }, before, h('span', { class: 'arrow' }, '→'), after);
  const syncMode = () => manual.classList.toggle('hidden', mode.value !== 'manual');

  const knobGrid = h('div', { class: 'knobs' });
  // Closed by default so the results stay above the fold; the summary line says what is set.
  const knobSummary = h('summary', null, 'Knobs');
  const summarize = (k: EditableKnobs) => {
    knobSummary.textContent = `Knobs: ${k.packets} packets · ${k.cpus} CPUs · skew ${k.skewUs} µs · SNAT ${k.snat}/${k.portMode}, ${k.portRange} ports (${k.occupiedPorts} held)`
      + `${k.endpoints ? ` · ${k.endpoints} DNAT endpoints` : ''} · resolver ${k.resolver}, ${k.timeoutS} s × ${k.attempts}`;
  };
  for (const key of NUMERIC) {
    const r = init.ranges[key];
    const input = h('input', { type: 'number', id: `knob-${key}`, min: r.min, max: r.max, step: r.integer ? 1 : 'any' });
    numeric.set(key, input);
    knobGrid.append(h('label', { class: 'knob' }, h('span', null, r.label + (r.unit ? ` (${r.unit})` : '')), input));
  }
  for (const [key, opts] of Object.entries(CHOICES)) {
    const el = select(`knob-${key}`, opts!.map((o) => [o, o]));
    choice.set(key, el);
    knobGrid.append(h('label', { class: 'knob' }, h('span', null, CHOICE_LABELS[key]), el));
  }
  const trials = h('input', { type: 'number', id: 'trials', min: init.ranges.trials.min, max: init.ranges.trials.max, step: 1000 });
  const seed = h('input', { type: 'number', id: 'seed', min: 0, max: init.ranges.seed.max, step: 1 });
  const sweep = select('sweep', SWEEPS.map(([k, l]) => [k, l]));
  const runBtn = h('button', { id: 'run', class: 'primary', onclick: () => actions.run() }, 'Run');
  const cancelBtn = h('button', { id: 'cancel', class: 'secondary', disabled: true, onclick: () => actions.cancel() }, 'Cancel');
  const importSel = h('button', { id: 'import', class: 'secondary', title: 'Paste or open real conntrack -S output', onclick: () => actions.importStats('clipboard') }, 'Import conntrack -S from clipboard');
  const importFile = h('button', { class: 'secondary', onclick: () => actions.importStats('file') }, 'from file…');

  const element = h('section', { class: 'controls card' },
    h('div', { class: 'row' },
      h('label', { class: 'grow' }, h('span', null, 'Scenario'), scenario),
      h('label', null, h('span', null, 'Compare'), mode), manual),
    desc,
    h('details', { class: 'knob-details' }, knobSummary, knobGrid),
    h('div', { class: 'row run-row' },
      h('label', { class: 'knob' }, h('span', null, 'Trials'), trials),
      h('label', { class: 'knob' }, h('span', null, 'Seed'), seed),
      h('label', { class: 'knob' }, h('span', null, 'Chart: drop rate against'), sweep),
      h('span', { class: 'grow' }),
      runBtn, cancelBtn, importSel, importFile),
  );

  function read(): RunRequest {
    const knobs = {} as Record<string, unknown>;
    for (const [k, el] of numeric) knobs[k] = el.value === '' ? NaN : Number(el.value);
    for (const [k, el] of choice) knobs[k] = el.value;
    const variants: RunRequest['variants'] = mode.value === 'manual'
      ? { mode: 'manual', before: before.value as never, after: after.value as never }
      : { mode: 'detected' };
    return { scenario: scenario.value, knobs: knobs as unknown as EditableKnobs, variants, trials: Number(trials.value), seed: Number(seed.value), sweep: sweep.value as SweepKnob };
  }

  function set(req: RunRequest): void {
    scenario.value = req.scenario;
    desc.textContent = scenarios.get(req.scenario)?.description ?? '';
    for (const [k, el] of numeric) el.value = String((req.knobs as unknown as Record<string, number>)[k]);
    for (const [k, el] of choice) el.value = String((req.knobs as unknown as Record<string, string>)[k]);
    const useDetected = req.variants.mode === 'detected' && !!init.detection;
    mode.value = useDetected ? 'detected' : 'manual';
    if (req.variants.mode === 'manual') { before.value = req.variants.before; after.value = req.variants.after; }
    else if (init.detection) { before.value = init.detection.variant; after.value = init.detection.after; }
    summarize(req.knobs);
    trials.value = String(req.trials);
    seed.value = String(req.seed);
    sweep.value = req.sweep;
    syncMode();
  }

  function setRunning(running: boolean): void {
    runBtn.disabled = running;
    cancelBtn.disabled = !running;
  }

  knobGrid.addEventListener('change', () => summarize(read().knobs));
  return { element, read, set, setRunning };
}

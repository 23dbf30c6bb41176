// The request form: scenario preset, which two variants, editable knobs, trials/seed/sweep.
// It only collects values; the host validates them (ranges here are hints for the inputs).

import type { EditableKnobs, InitPayload, OverflowKnobs, RunRequest, SweepKnob } from '../protocol';
import { h } from './dom';
import { createMitigationControls } from './mitigations';

export interface Form {
  element: HTMLElement;
  read(): RunRequest;
  set(req: RunRequest): void;
  setRunning(running: boolean): void;
}

export interface FormActions {
  run(): void;
  cancel(): void;
  importStats(from: 'clipboard' | 'file' | 'input'): void;
}

const NUMERIC: (keyof EditableKnobs)[] = [
  'packets',
  'cpus',
  'skewUs',
  'stepCostUs',
  'endpoints',
  'portRange',
  'occupiedPorts',
  'timeoutS',
  'attempts',
];
const CHOICES: Partial<Record<keyof EditableKnobs, readonly string[]>> = {
  snat: ['masquerade', 'null-binding', 'none'],
  portMode: ['default', 'random', 'random-fully'],
  resolver: ['default', 'single-request', 'single-request-reopen', 'use-vc'],
};
const CHOICE_LABELS: Record<string, string> = { snat: 'SNAT', portMode: 'Port mode', resolver: 'Resolver options' };
/** Timed-run knobs of the overflow scenario (host ranges share these names). */
const OVERFLOW_NUMERIC: (keyof Omit<OverflowKnobs, 'whatIf' | 'compare'>)[] = [
  'max',
  'buckets',
  'flowRate',
  'udpFraction',
  'durationS',
  'tcpLifetimeS',
];
const SWEEPS: [SweepKnob, string][] = [
  ['skewUs', 'send skew'],
  ['packets', 'racing packets'],
  ['cpus', 'CPUs'],
  ['none', 'no sweep'],
];

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

  const scenario = select(
    'scenario',
    init.scenarios.map((s) => [s.name, s.title]),
    () => {
      // A new preset brings its own knob values; variants and run settings stay.
      const cur = read();
      const next = scenarios.get(scenario.value)!;
      set({ ...cur, scenario: scenario.value, knobs: next.knobs, overflow: next.overflow });
    },
  );
  const mode = select(
    'variant-mode',
    [
      ['detected', 'Detected tree → after backport'],
      ['manual', 'Choose variants'],
    ],
    () => syncMode(),
  );
  if (!init.detection) (mode.options[0] as HTMLOptionElement).disabled = true;
  const before = select('variant-before', variantOpts);
  const after = select('variant-after', variantOpts);
  const manual = h('span', { class: 'manual-variants' }, before, h('span', { class: 'arrow' }, '→'), after);
  const syncMode = () => manual.classList.toggle('hidden', mode.value !== 'manual');

  const knobGrid = h('div', { class: 'knobs' });
  const mitigations = createMitigationControls(init);
  // Closed by default so the results stay above the fold; the summary line says what is set.
  const knobSummary = h('summary', null, 'Knobs');
  const summarize = (k: EditableKnobs) => {
    knobSummary.textContent =
      `Knobs: ${k.packets} packets · ${k.cpus} CPUs · skew ${k.skewUs} µs · SNAT ${k.snat}/${k.portMode}, ${k.portRange} ports (${k.occupiedPorts} held)` +
      `${k.endpoints ? ` · ${k.endpoints} DNAT endpoints` : ''} · resolver ${k.resolver}, ${k.timeoutS} s × ${k.attempts}` +
      (mitigations.summary(k) ? ` · ${mitigations.summary(k)}` : '');
  };
  for (const key of NUMERIC) {
    const r = init.ranges[key];
    const input = h('input', { type: 'number', id: `knob-${key}`, min: r.min, max: r.max, step: r.integer ? 1 : 'any' });
    numeric.set(key, input);
    knobGrid.append(h('label', { class: 'knob' }, h('span', null, r.label + (r.unit ? ` (${r.unit})` : '')), input));
  }
  for (const [key, opts] of Object.entries(CHOICES)) {
    const el = select(
      `knob-${key}`,
      opts!.map((o) => [o, o]),
    );
    choice.set(key, el);
    knobGrid.append(h('label', { class: 'knob' }, h('span', null, CHOICE_LABELS[key]), el));
  }
  // Table overflow: shown only for an overflow preset. What-ifs with a value (soft timeout,
  // adaptive threshold) have a checkbox too, so switching one off keeps the value typed in.
  const ovInputs = new Map<string, HTMLInputElement>();
  const numberInput = (key: string) => {
    const r = init.ranges[key];
    const input = h('input', { type: 'number', id: `knob-${key}`, min: r.min, max: r.max, step: r.integer ? 1 : 'any' });
    ovInputs.set(key, input);
    return h('label', { class: 'knob' }, h('span', null, r.label + (r.unit ? ` (${r.unit})` : '')), input);
  };
  const ovGrid = h('div', { class: 'knobs' }, ...OVERFLOW_NUMERIC.map(numberInput));
  const wiClosing = h('input', { type: 'checkbox', id: 'whatif-closing' });
  const wiSoft = h('input', { type: 'checkbox', id: 'whatif-soft' });
  const wiAdaptive = h('input', { type: 'checkbox', id: 'whatif-adaptive' });
  const check = (box: HTMLInputElement, text: string) => h('label', { class: 'check' }, box, h('span', null, text));
  const softLabel = numberInput('softTimeout');
  const adaptiveLabel = numberInput('adaptiveThreshold');
  const ovCompare = select('overflow-compare', [
    ['whatif', 'Without vs with the selected what-ifs'],
    ['backport', 'Detected → after backport (both with the what-ifs)'],
  ]);
  const whatIfs = h(
    'fieldset',
    { class: 'whatifs' },
    h('legend', null, 'What-ifs (Westphal, seed 002)'),
    check(wiClosing, 'early drop also evicts TCP in closing states'),
    h('span', { class: 'whatif-row' }, check(wiSoft, 'soft timeout while the table is full'), softLabel),
    h('span', { class: 'whatif-row' }, check(wiAdaptive, 'adaptive timeouts above an occupancy'), adaptiveLabel),
  );
  const overflowBox = h(
    'section',
    { class: 'overflow-knobs hidden', id: 'overflow-knobs' },
    h('h3', null, 'Table overflow: timed run'),
    h('div', { class: 'row' }, h('label', null, h('span', null, 'Compare'), ovCompare)),
    ovGrid,
    whatIfs,
  );
  const syncWhatIf = () => {
    ovInputs.get('softTimeout')!.disabled = !wiSoft.checked;
    ovInputs.get('adaptiveThreshold')!.disabled = !wiAdaptive.checked;
  };
  wiSoft.addEventListener('change', syncWhatIf);
  wiAdaptive.addEventListener('change', syncWhatIf);
  /** Values the page last had for the unchecked what-ifs (the request carries 0 for "off"). */
  let lastSoft = 30,
    lastAdaptive = 0.8;

  const trials = h('input', { type: 'number', id: 'trials', min: init.ranges.trials.min, max: init.ranges.trials.max, step: 1000 });
  const seed = h('input', { type: 'number', id: 'seed', min: 0, max: init.ranges.seed.max, step: 1 });
  const sweep = select(
    'sweep',
    SWEEPS.map(([k, l]) => [k, l]),
  );
  const runBtn = h('button', { id: 'run', class: 'primary', onclick: () => actions.run() }, 'Run');
  const cancelBtn = h('button', { id: 'cancel', class: 'secondary', disabled: true, onclick: () => actions.cancel() }, 'Cancel');
  const importSel = h(
    'button',
    { id: 'import', class: 'secondary', title: 'Paste or open real conntrack -S output', onclick: () => actions.importStats('clipboard') },
    'Import conntrack -S from clipboard',
  );
  const importFile = h('button', { class: 'secondary', onclick: () => actions.importStats('file') }, 'from file…');

  const element = h(
    'section',
    { class: 'controls card' },
    h(
      'div',
      { class: 'row' },
      h('label', { class: 'grow' }, h('span', null, 'Scenario'), scenario),
      h('label', null, h('span', null, 'Compare'), mode),
      manual,
    ),
    desc,
    overflowBox,
    h('details', { class: 'knob-details' }, knobSummary, knobGrid, mitigations.element),
    h(
      'div',
      { class: 'row run-row' },
      h('label', { class: 'knob' }, h('span', null, 'Trials'), trials),
      h('label', { class: 'knob' }, h('span', null, 'Seed'), seed),
      h('label', { class: 'knob' }, h('span', null, 'Chart: drop rate against'), sweep),
      h('span', { class: 'grow' }),
      runBtn,
      cancelBtn,
      importSel,
      importFile,
    ),
  );

  function read(): RunRequest {
    const knobs = {} as Record<string, unknown>;
    for (const [k, el] of numeric) knobs[k] = el.value === '' ? NaN : Number(el.value);
    for (const [k, el] of choice) knobs[k] = el.value;
    const { workarounds, ...mk } = mitigations.read();
    Object.assign(knobs, mk);
    const variants: RunRequest['variants'] =
      mode.value === 'manual' ? { mode: 'manual', before: before.value as never, after: after.value as never } : { mode: 'detected' };
    const req: RunRequest = {
      scenario: scenario.value,
      knobs: knobs as unknown as EditableKnobs,
      variants,
      trials: Number(trials.value),
      seed: Number(seed.value),
      sweep: sweep.value as SweepKnob,
      workarounds: workarounds && scenarios.get(scenario.value)?.kind === 'race',
    };
    if (scenarios.get(scenario.value)?.kind === 'overflow') req.overflow = readOverflow();
    return req;
  }

  function readOverflow(): OverflowKnobs {
    const n = (k: string) => {
      const el = ovInputs.get(k)!;
      return el.value === '' ? NaN : Number(el.value);
    };
    const o = {} as Record<string, unknown>;
    for (const k of OVERFLOW_NUMERIC) o[k] = n(k);
    return {
      ...(o as Omit<OverflowKnobs, 'whatIf' | 'compare'>),
      whatIf: {
        earlyDropClosing: wiClosing.checked,
        softTimeout: wiSoft.checked ? n('softTimeout') : 0,
        adaptiveThreshold: wiAdaptive.checked ? n('adaptiveThreshold') : 0,
      },
      compare: ovCompare.value as OverflowKnobs['compare'],
    };
  }

  function setOverflow(o: OverflowKnobs | undefined): void {
    overflowBox.classList.toggle('hidden', !o);
    if (!o) return;
    for (const k of OVERFLOW_NUMERIC) ovInputs.get(k)!.value = String(o[k]);
    wiClosing.checked = o.whatIf.earlyDropClosing;
    wiSoft.checked = o.whatIf.softTimeout > 0;
    wiAdaptive.checked = o.whatIf.adaptiveThreshold > 0;
    if (o.whatIf.softTimeout > 0) lastSoft = o.whatIf.softTimeout;
    if (o.whatIf.adaptiveThreshold > 0) lastAdaptive = o.whatIf.adaptiveThreshold;
    ovInputs.get('softTimeout')!.value = String(lastSoft);
    ovInputs.get('adaptiveThreshold')!.value = String(lastAdaptive);
    ovCompare.value = o.compare;
    syncWhatIf();
  }

  function set(req: RunRequest): void {
    scenario.value = req.scenario;
    desc.textContent = scenarios.get(req.scenario)?.description ?? '';
    for (const [k, el] of numeric) el.value = String((req.knobs as unknown as Record<string, number>)[k]);
    for (const [k, el] of choice) el.value = String((req.knobs as unknown as Record<string, string>)[k]);
    const useDetected = req.variants.mode === 'detected' && !!init.detection;
    mode.value = useDetected ? 'detected' : 'manual';
    if (req.variants.mode === 'manual') {
      before.value = req.variants.before;
      after.value = req.variants.after;
    } else if (init.detection) {
      before.value = init.detection.variant;
      after.value = init.detection.after;
    }
    const kind = scenarios.get(req.scenario)?.kind;
    mitigations.set(req.knobs, req.workarounds ?? kind === 'race', kind);
    summarize(req.knobs);
    setOverflow(kind === 'overflow' ? (req.overflow ?? scenarios.get(req.scenario)?.overflow) : undefined);
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
  mitigations.element.addEventListener('change', () => summarize(read().knobs));
  return { element, read, set, setRunning };
}

// The simulation page: renders what the host sends and posts what the user asks for. It never
// runs the model. State (request, last result, imported stats) is kept with setState so a
// hidden or reloaded panel comes back as it was, and mirrored to the host for a reopened one.

import type { DetectionSummary, HostToPage, InitPayload, PanelResult, RunRequest, SavedState } from '../protocol';
import { host } from './api';
import { sweepChart } from './chart';
import { clear, h } from './dom';
import { createForm, type Form } from './form';
import { explorerEl } from './lanes';
import { columnEl, columnTitle, verdictEl } from './results';
import { statsEl } from './stats';
import { workaroundsEl } from './mitigations';
import { createTestPlanCard } from './testplan';

const app = document.getElementById('app')!;
let init: InitPayload | undefined;
let state: SavedState = host.getState() ?? {};
let form: Form | undefined;
let running: number | undefined;
let nextRunId = 1;

const progressBar = h('progress', { id: 'progress', max: 1, value: 0 });
const progressText = h('span', { class: 'muted small' });
const progress = h('div', { class: 'progress hidden' }, progressBar, progressText);
const message = h('div', { class: 'message hidden', role: 'alert' });
const evidence = h('div', { id: 'evidence-slot' });
const results = h('div', { id: 'results' });
const testPlan = createTestPlanCard({
  run: () => host.postMessage({ type: 'run-testplan' }),
  cancel: () => host.postMessage({ type: 'cancel-testplan' }),
});

function save(patch: Partial<SavedState>): void {
  state = { ...state, ...patch };
  host.setState(state);
  host.postMessage({ type: 'state-changed', state });
}

function showMessage(text: string | undefined, kind: 'error' | 'info' = 'error'): void {
  message.textContent = text ?? '';
  message.className = `message ${kind}${text ? '' : ' hidden'}`;
}

function detectionEl(d: DetectionSummary | undefined): HTMLElement {
  if (!d)
    return h(
      'p',
      { class: 'muted' },
      'No kernel tree detected: choose the two variants by hand, or open net/netfilter/nf_conntrack_core.c.',
    );
  const label = (id: string) => init?.variants.find((v) => v.id === id)?.label ?? id;
  return h(
    'div',
    { class: 'detection' },
    h('p', null, h('span', { class: 'muted' }, 'Tree '), h('code', null, d.file)),
    h(
      'p',
      null,
      h('span', { class: 'muted' }, 'detected '),
      h('strong', null, label(d.variant)),
      h('span', { class: 'muted' }, '  →  after backport '),
      h('strong', null, label(d.after)),
    ),
    d.caveats.length ? h('ul', { class: 'caveats' }, ...d.caveats.map((c) => h('li', null, c))) : null,
  );
}

function run(): void {
  if (!form) return;
  const request: RunRequest = form.read();
  const runId = nextRunId++;
  running = runId;
  form.setRunning(true);
  showMessage(undefined);
  progressBar.value = 0;
  progressText.textContent = 'starting…';
  progress.classList.remove('hidden');
  save({ request });
  host.postMessage({ type: 'run', runId, request });
}

function stopped(): void {
  running = undefined;
  form?.setRunning(false);
  progress.classList.add('hidden');
}

function renderResult(r: PanelResult | undefined): void {
  clear(results);
  if (!r) return;
  const [b, a] = r.columns;
  results.append(
    h(
      'div',
      { class: 'result-head' },
      h('h2', null, r.scenario.title),
      r.scenario.races.length
        ? h(
            'span',
            { class: 'chip' },
            `${r.scenario.races.length === 1 ? 'race' : 'races'} ${r.scenario.races.map((x) => x.replace(/^race/, '')).join(', ')}`,
          )
        : null,
      h('span', { class: 'muted small' }, `seed ${r.request.seed} · ${(r.ms / 1000).toFixed(1)} s`),
    ),
    verdictEl(r),
    h('div', { class: 'columns' }, columnEl(b, r), columnEl(a, r)),
    r.sweep
      ? h(
          'section',
          { class: 'card' },
          h('h3', null, `Packets dropped against ${r.sweep.label}`),
          sweepChart(r.sweep, { before: `${columnTitle(b, r)}: ${b.label}`, after: `${columnTitle(a, r)}: ${a.label}` }),
        )
      : '',
    workaroundsEl(r) ?? '',
    explorerEl(r, { openSource: (fn) => host.postMessage({ type: 'open-source-location', fn }) }),
  );
}

function renderAll(): void {
  if (!init) return;
  clear(app);
  form = createForm(init, {
    run,
    cancel: () => {
      if (running !== undefined) host.postMessage({ type: 'cancel', runId: running });
    },
    importStats: (from) => host.postMessage({ type: 'import-stats', from }),
  });
  const request = state.request ?? init.saved?.request ?? init.defaults;
  form.set(request);
  app.append(
    h('header', { class: 'top' }, h('h1', null, 'Conntrack race simulation'), detectionEl(init.detection)),
    form.element,
    progress,
    message,
    evidence,
    results,
    testPlan.element,
  );
  clear(evidence);
  if (state.stats) evidence.append(statsEl(state.stats));
  renderResult(state.result);
}

host.connect<HostToPage>((m) => {
  switch (m.type) {
    case 'init': {
      init = m.init;
      // The page's own state (hidden/reloaded panel) wins over what the host kept.
      if (!state.request && !state.result && m.init.saved) state = { ...m.init.saved };
      renderAll();
      if (!state.result) run(); // a first open shows an answer without a click
      return;
    }
    case 'detection':
      if (!init) return;
      init = { ...init, detection: m.detection };
      renderAll();
      return;
    case 'progress':
      if (m.runId !== running) return;
      progressBar.value = m.total ? m.done / m.total : 0;
      progressText.textContent = `${m.phase} · ${Math.round((100 * m.done) / Math.max(1, m.total))} %`;
      return;
    case 'result':
      if (m.result.runId !== running) return;
      stopped();
      save({ result: m.result });
      renderResult(m.result);
      return;
    case 'cancelled':
      if (m.runId !== running) return;
      stopped();
      showMessage('Run cancelled.', 'info');
      return;
    case 'error':
      if (m.runId !== undefined && m.runId !== running) return;
      if (m.runId !== undefined) stopped();
      showMessage(m.message);
      return;
    case 'testplan':
      testPlan.show(m.view);
      if (m.view) testPlan.element.scrollIntoView({ block: 'start' });
      return;
    case 'testplan-status':
      testPlan.status(m.text, m.running);
      return;
    case 'stats':
      save({ stats: m.stats });
      clear(evidence);
      evidence.append(statsEl(m.stats));
      evidence.scrollIntoView({ block: 'start' });
      return;
  }
});

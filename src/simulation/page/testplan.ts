// The test plan card of the simulation panel: a "Run Test Plan in a VM" button (the host runs the
// command, with its own progress notification), the stage line while it runs, and the measured
// figures per configuration beside the model's, before and after the plan.

import type { TestPlanRowView, TestPlanView } from '../protocol';
import { clear, h, int } from './dom';

const p3 = (x: number | null) => (x === null ? '–' : x.toFixed(3));
const n = (x: number | null) => (x === null ? '–' : int(x));
const signed = (x: number | null) => (x === null ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(4)}`);

function rowEl(r: TestPlanRowView): HTMLElement {
  return h(
    'tr',
    { class: r.control && (r.clashes ?? 0) > 0 ? 'bad' : undefined, title: [r.title, ...r.notes].join('\n') },
    h('td', null, r.config),
    h('td', { class: 'num' }, n(r.trials)),
    h('td', { class: 'num' }, n(r.clashes)),
    h('td', { class: 'num' }, n(r.drops)),
    h('td', { class: 'num' }, n(r.lost)),
    h('td', { class: 'num' }, p3(r.pDropGivenClash)),
    h('td', { class: 'num' }, n(r.twoBackends)),
    h('td', { class: 'num model' }, p3(r.modelPDropGivenClash)),
    h('td', { class: 'num model' }, r.modelLostPerTrial === null ? '–' : r.modelLostPerTrial.toFixed(4)),
    h('td', { class: 'num' }, r.error ? r.error.slice(0, 40) : signed(r.diffLostPerTrial)),
  );
}

const HEAD = [
  'config',
  'trials',
  'clashes',
  'drops',
  'lost',
  'P(drop|clash)',
  '2 backends',
  'model P(d|c)',
  'model lost/trial',
  'measured − model',
];

export interface TestPlanCard {
  element: HTMLElement;
  show(view: TestPlanView | undefined): void;
  status(text: string, running: boolean): void;
}

export function createTestPlanCard(actions: { run: () => void; cancel: () => void }): TestPlanCard {
  const runBtn = h('button', { id: 'run-testplan', type: 'button', onclick: () => actions.run() }, 'Run Test Plan in a VM');
  const cancelBtn = h(
    'button',
    { id: 'cancel-testplan', type: 'button', class: 'secondary hidden', onclick: () => actions.cancel() },
    'Cancel',
  );
  const line = h(
    'p',
    { class: 'muted small', id: 'testplan-status' },
    "Builds this kernel out of place, boots it under qemu and races UDP through NAT; the router's counters go beside the model.",
  );
  const body = h('div', { id: 'testplan-result' });
  const element = h(
    'section',
    { class: 'card', id: 'testplan' },
    h('h3', null, 'The real kernel (test plan)'),
    h('div', { class: 'row' }, runBtn, cancelBtn),
    line,
    body,
  );
  return {
    element,
    status(text, running) {
      line.textContent = text;
      runBtn.toggleAttribute('disabled', running);
      cancelBtn.classList.toggle('hidden', !running);
    },
    show(v) {
      clear(body);
      if (!v) return;
      body.append(
        h(
          'p',
          null,
          h('strong', null, `${v.release || 'kernel'}`),
          v.state ? ' ' : '',
          v.state
            ? h(
                'span',
                { class: v.state === 'running' ? 'badge running' : 'badge' },
                v.state === 'running' ? 'running: figures so far' : 'cancelled: figures up to the cancel',
              )
            : '',
          h(
            'span',
            { class: 'muted small' },
            ` · ${v.trials} trials per configuration${v.state ? ' planned' : ''} · ${(v.totalMs / 1000).toFixed(0)} s${v.state === 'running' ? ' so far' : ''} · ${v.at.slice(0, 16).replace('T', ' ')} UTC`,
          ),
        ),
        v.plan ? h('p', { class: 'muted small' }, `plan: ${v.plan}`) : '',
        ...v.runs.map((run) =>
          h(
            'div',
            { class: 'table-wrap testplan-run' },
            h(
              'h4',
              null,
              `${run.label}: ${run.source}`,
              h('span', { class: 'muted small' }, ` · model variant ${run.variant} · ${run.summary}`),
            ),
            run.error ? h('p', { class: 'message error' }, run.error) : null,
            run.rows.length
              ? h(
                  'table',
                  { class: 'counters' },
                  h('thead', null, h('tr', null, ...HEAD.map((x) => h('th', null, x)))),
                  h('tbody', null, ...run.rows.map(rowEl)),
                )
              : null,
          ),
        ),
        v.command ? h('p', { class: 'muted small' }, h('code', null, v.command)) : '',
      );
    },
  };
}

// The matrix page: renders what the host sends (view.ts decides what each row and line says),
// keeps filter, sort and the ref box with setState, and asks the host to sweep, cancel, open
// evidence or export. It decides nothing about the kernel. All text goes in as text nodes.

import { pageHost } from '../../webview/page/host';
import { byId, clear, h } from '../../webview/page/dom';
import { type EvidencePointer, type ExportFormat, type Matrix, RENDERED_ROWS, type ToHost, type ToPage } from '../protocol';
import { normalizePageState, type MatrixPageState } from '../state';
import {
  badFilter,
  eventSections,
  headView,
  nextSort,
  progressView,
  refPatterns,
  renderedTable,
  type RowView,
  rowView,
  statusText,
  visibleRows,
} from './view';

const host = pageHost<ToHost, MatrixPageState>();
// Filter, sort and the ref box survive a hide or reload; so do the repository and selection on
// show (`repo`, `selection`), which the host's serializer reads to show the same sweep again.
const state: MatrixPageState = normalizePageState(host.getState());
let matrix: Matrix | undefined;
/** Said before the counts until the next sweep (e.g. "kept sweep from …"). */
let note = '';
let sweeping = false;
/** Restricted Mode: the host will not sweep, so the sweep controls stay off. */
let restricted = false;

const filterEl = byId<HTMLInputElement>('filter');
const onlyEl = byId<HTMLSelectElement>('only');
const kindEl = byId<HTMLSelectElement>('kind');
const refsEl = byId<HTMLInputElement>('refs');
const rerunEl = byId<HTMLButtonElement>('rerun');
const cancelEl = byId<HTMLButtonElement>('cancel');
const noticeEl = byId('notice');
const progressEl = byId('progress');
const progressBar = byId<HTMLProgressElement>('progress-bar');
const progressText = byId('progress-text');
const statusEl = byId('status');
const table = byId<HTMLTableElement>('matrix');
const eventsEl = byId('events');
const exportEls = [...document.querySelectorAll<HTMLButtonElement>('[data-export]')];

filterEl.value = state.filter;
onlyEl.value = state.only;
kindEl.value = state.kind;
refsEl.value = state.refs;

const save = (): void => host.setState(state);

function notice(text: string, kind: 'error' | 'info' = 'error'): void {
  noticeEl.textContent = text;
  noticeEl.className = `notice ${kind}${text ? '' : ' hidden'}`;
  if (text) host.postMessage({ type: 'rendered', what: 'notice', text });
}

function setSweeping(on: boolean): void {
  sweeping = on;
  document.body.classList.toggle('busy', on);
  cancelEl.classList.toggle('hidden', !on);
  cancelEl.disabled = false;
  cancelEl.textContent = 'Cancel';
  rerunEl.disabled = on || restricted;
  progressEl.classList.toggle('hidden', !on);
  if (!on) {
    progressText.textContent = '';
    progressBar.removeAttribute('value');
  }
  for (const b of exportEls) b.disabled = on || !matrix;
}

function evidenceLink(p: EvidencePointer, text: string, title: string): HTMLAnchorElement {
  return h(
    'a',
    {
      class: 'evidence',
      href: '#',
      title,
      onclick: (ev: Event) => {
        ev.preventDefault();
        host.postMessage({ type: 'open', pointer: p });
      },
    },
    text,
  );
}

function renderHead(): void {
  const thead = table.tHead!;
  clear(thead);
  const tr = h('tr');
  for (const c of headView(state)) {
    const sortBy = (): void => {
      Object.assign(state, nextSort(state, c.key));
      save();
      render();
    };
    tr.append(
      h(
        'th',
        {
          class: c.cls || undefined,
          title: c.title,
          tabindex: 0,
          role: 'columnheader',
          'aria-sort': c.ariaSort,
          'data-key': c.key,
          onclick: sortBy,
          onkeydown: (e: Event) => {
            const k = (e as KeyboardEvent).key;
            if (k === 'Enter' || k === ' ') {
              e.preventDefault();
              sortBy();
            }
          },
        },
        c.label,
      ),
    );
  }
  thead.append(tr);
}

function renderBody(): RowView[] {
  const tbody = table.tBodies[0];
  clear(tbody);
  if (!matrix) return [];
  const views = visibleRows(matrix.rows, state).map(rowView);
  const frag = document.createDocumentFragment();
  for (const v of views) {
    const tr = h('tr', { class: v.cls, 'data-ref': v.ref });
    for (const c of v.cells) {
      const td = h('td', { class: c.cls, title: c.title, 'data-key': c.key });
      const label = c.open ? evidenceLink(c.open, c.text, c.title ?? '') : h('span', null, c.text);
      label.classList.add('vt');
      td.append(label);
      if (c.flag) td.append(h('span', { class: 'flag', title: 'history and source disagree' }, ' ⚠'));
      if (c.history) td.append(' ', evidenceLink(c.history, '⟲', `history: ${c.history.site}`));
      if (c.sub) td.append(h('div', { class: 'variant' }, c.sub));
      tr.append(td);
    }
    frag.append(tr);
  }
  tbody.append(frag);
  return views;
}

function renderEvents(): void {
  clear(eventsEl);
  if (!matrix) return;
  for (const s of eventSections(matrix)) eventsEl.append(h('h2', null, s.title), h('ul', null, ...s.items.map((i) => h('li', null, i))));
}

function render(): void {
  renderHead();
  const shown = renderBody();
  if (matrix) {
    const bad = badFilter(state.filter) ? ' · the /regex/ filter does not compile' : '';
    statusEl.textContent = statusText(matrix, shown.length, note) + bad;
    host.postMessage({ type: 'rendered', what: 'matrix', text: renderedTable(headView(state), shown, RENDERED_ROWS) });
  }
  renderEvents();
}

function onMessage(m: ToPage): void {
  switch (m.type) {
    case 'matrix':
      matrix = m.matrix;
      note = typeof m.note === 'string' ? m.note : '';
      state.repo = matrix.repo;
      state.selection = matrix.selection;
      save();
      notice('');
      setSweeping(false);
      render();
      return;
    case 'target':
      state.repo = m.repo;
      state.selection = m.refs;
      if (!state.refs && m.refs.length) {
        state.refs = m.refs.join(' ');
        refsEl.value = state.refs;
      }
      save();
      return;
    case 'busy':
      notice('');
      setSweeping(true);
      progressBar.removeAttribute('value');
      progressText.textContent = m.message;
      return;
    case 'progress': {
      if (!sweeping) setSweeping(true);
      const p = progressView(m);
      if (p.value === undefined) progressBar.removeAttribute('value');
      else progressBar.value = p.value;
      progressText.textContent = p.text;
      host.postMessage({ type: 'rendered', what: 'progress', text: p.text });
      return;
    }
    case 'error':
      setSweeping(false);
      notice(m.message, m.message === 'Sweep cancelled.' ? 'info' : 'error');
      return;
    case 'restricted':
      restricted = true;
      setSweeping(false);
      notice(m.message, 'info');
      refsEl.disabled = true;
      statusEl.textContent = '';
      return;
  }
}

filterEl.addEventListener('input', () => {
  state.filter = filterEl.value;
  save();
  render();
});
onlyEl.addEventListener('change', () => {
  state.only = normalizePageState({ ...state, only: onlyEl.value }).only;
  save();
  render();
});
kindEl.addEventListener('change', () => {
  state.kind = normalizePageState({ ...state, kind: kindEl.value }).kind;
  save();
  render();
});
const rerun = (): void => {
  if (rerunEl.disabled) return;
  state.refs = refsEl.value;
  save();
  host.postMessage({ type: 'rerun', refs: refPatterns(refsEl.value) });
};
rerunEl.addEventListener('click', rerun);
refsEl.addEventListener('keydown', (e) => e.key === 'Enter' && rerun());
cancelEl.addEventListener('click', () => {
  cancelEl.disabled = true;
  cancelEl.textContent = 'Cancelling…';
  host.postMessage({ type: 'cancel' });
});
for (const b of exportEls)
  b.addEventListener('click', () => {
    const format = b.dataset.export as ExportFormat;
    host.postMessage({ type: 'export', format });
  });

// The table header sticks under the controls, whose height depends on how they wrap.
const bar = document.querySelector<HTMLElement>('header.bar');
if (bar) new ResizeObserver(() => document.documentElement.style.setProperty('--bar-height', `${bar.offsetHeight}px`)).observe(bar);

setSweeping(false);
render();
host.connect<ToPage>(onMessage);

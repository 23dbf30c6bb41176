// The interleaving explorer: a dropping schedule from the exhaustive engine laid out as CPU
// lanes, one row per step in the order the CPUs took them, so the reader sees which CPU was
// between which two steps of the other. The step that decided a packet's fate is marked, and
// its kernel function links to its line in the tree (the host opens it).

import type { LaneTrace, PanelResult, SourceLink, VariantColumn } from '../protocol';
import { clear, h } from './dom';

export interface ExplorerActions {
  openSource(fn: string): void;
}

const isDropNote = (note: string) => /DROP|dropping/.test(note);

function fnEl(fn: string, symbol: string | undefined, sources: Record<string, SourceLink>, act: ExplorerActions): HTMLElement {
  const link = symbol ? sources[symbol] : undefined;
  if (!symbol || !link) return h('code', { class: 'fn', title: 'not found in the analysed tree' }, fn);
  const file = link.file.split(/[\\/]/).pop();
  return h(
    'span',
    { class: 'fn-wrap' },
    h(
      'a',
      {
        href: '#',
        class: 'fn link',
        title: `Open ${file}:${link.line}`,
        onclick: (e: Event) => {
          e.preventDefault();
          act.openSource(symbol);
        },
      },
      fn,
    ),
    h('span', { class: 'where' }, `${file}:${link.line}`),
  );
}

function laneTable(t: LaneTrace, sources: Record<string, SourceLink>, act: ExplorerActions): HTMLTableElement {
  const cpus = t.cpus.length ? t.cpus : [0];
  const head = h('tr', null, h('th', { class: 'stepno' }, '#'), ...cpus.map((c) => h('th', null, `CPU ${c}`)));
  const rows = t.events.map((e, i) => {
    const drop = e.decisive && isDropNote(e.note);
    const cell = h(
      'td',
      { class: `ev p${e.packet % 4}${e.decisive ? ' decisive' : ''}${drop ? ' drop' : ''}` },
      h(
        'div',
        { class: 'ev-head' },
        h('span', { class: `pkt p${e.packet % 4}` }, `P${e.packet}`),
        h('span', { class: 'step' }, e.step),
        fnEl(e.fn, e.symbol, sources, act),
        e.decisive ? h('span', { class: `badge${drop ? ' drop' : ''}` }, drop ? 'decided the drop' : 'decided') : null,
      ),
      h('div', { class: 'note' }, e.note),
    );
    return h(
      'tr',
      { class: drop ? 'drop-row' : undefined },
      h('td', { class: 'stepno' }, String(i + 1)),
      ...cpus.map((c) => (c === e.cpu ? cell : h('td', { class: 'idle' }))),
    );
  });
  return h('table', { class: 'lanes' }, h('thead', null, head), h('tbody', null, ...rows));
}

export function explorerEl(result: PanelResult, act: ExplorerActions): HTMLElement {
  const body = h('div', { class: 'explorer-body' });
  const tabs = h('div', { class: 'tabs' });
  let col: VariantColumn = result.columns.find((c) => c.exhaustive.traces.length) ?? result.columns[0];
  let idx = 0;
  const render = () => {
    clear(tabs);
    for (const c of result.columns) {
      tabs.append(
        h(
          'button',
          {
            class: `tab${c === col ? ' active' : ''}`,
            onclick: () => {
              col = c;
              idx = 0;
              render();
            },
          },
          `${c.role === 'before' ? 'Before' : 'After'} (${c.exhaustive.dropSchedules} dropping)`,
        ),
      );
    }
    clear(body);
    const ex = col.exhaustive;
    if (ex.error) {
      body.append(h('p', { class: 'muted' }, ex.error));
      return;
    }
    if (ex.shrunk.length)
      body.append(
        h('p', { class: 'muted small' }, `Enumerated with a smaller port space so every pick is explored: ${ex.shrunk.join(', ')}.`),
      );
    if (!ex.traces.length) {
      body.append(
        h(
          'p',
          { class: 'good-text' },
          `No dropping schedule: all ${ex.schedules.toLocaleString('en-US')} interleavings of ${ex.packets} packets end without a drop.`,
        ),
      );
      return;
    }
    const picker = h(
      'div',
      { class: 'trace-picker' },
      h('span', { class: 'muted' }, `Dropping schedules (first ${ex.traces.length} of ${ex.dropSchedules.toLocaleString('en-US')}):`),
      ...ex.traces.map((_, i) =>
        h(
          'button',
          {
            class: `tab small${i === idx ? ' active' : ''}`,
            onclick: () => {
              idx = i;
              render();
            },
          },
          String(i + 1),
        ),
      ),
    );
    const t = ex.traces[idx];
    body.append(
      picker,
      h(
        'p',
        { class: 'schedule' },
        h('span', { class: 'muted' }, 'schedule '),
        h('code', null, t.schedule),
        h('span', { class: 'muted' }, '  ⇒  '),
        h('code', { class: 'outcome' }, t.outcome),
      ),
      laneTable(t, result.sources, act),
    );
  };
  render();
  return h(
    'section',
    { class: 'card explorer' },
    h('h3', null, 'Interleaving explorer'),
    h(
      'p',
      { class: 'muted small' },
      "Every interleaving of the racing packets' steps was enumerated; these are schedules in which a packet is dropped. Rows are steps in time order, columns the CPUs; function names open the tree's source at that function.",
    ),
    tabs,
    body,
  );
}

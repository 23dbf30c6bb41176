// The side-by-side comparison: one card per variant (detected tree | after the backport) with
// the drop rate and its interval, what users feel, the exhaustive counts and the model's
// `conntrack -S` rows in the counter names of the variant's kernel era.

import type { CounterTable, OverflowView, PanelResult, VariantColumn, WhatIf } from '../protocol';
import { ci, h, int, pct } from './dom';

/** Counters a kernel engineer looks at first when chasing the 5 s timeouts. */
const LOUD = new Set(['insert_failed', 'drop', 'early_drop', 'clash_resolve']);

const totalCell = (td: HTMLTableCellElement): HTMLTableCellElement => {
  td.classList.add('total');
  return td;
};

/** Up to this many CPUs a counter table is laid out one row per counter. */
const TRANSPOSE_UP_TO_CPUS = 4;

/**
 * A `conntrack -S` table. With a few CPUs (the model's, most pasted nodes) counters are rows and
 * CPUs columns, so the table is four columns wide and fits a half-width card without clipping;
 * with many CPUs it keeps conntrack's own layout (one row per CPU) and scrolls sideways.
 */
export function counterTableEl(t: CounterTable, caption?: string): HTMLTableElement {
  const drop = t.columns.indexOf('drop');
  if (t.rows.length <= TRANSPOSE_UP_TO_CPUS) {
    const head = h('tr', null, h('th', null, 'counter'), ...t.rows.map((r) => h('th', null, `cpu=${r.cpu}`)), h('th', null, 'total'));
    const body = t.columns.map((c, i) =>
      h(
        'tr',
        null,
        h('th', { class: LOUD.has(c) ? `name loud c-${c}` : 'name', scope: 'row' }, c),
        ...t.rows.map((r) => cell(c, r.values[i], drop >= 0 ? r.values[drop] : undefined)),
        totalCell(cell(c, t.totals[i], drop >= 0 ? t.totals[drop] : undefined)),
      ),
    );
    return h(
      'table',
      { class: 'ctstat by-counter' },
      caption ? h('caption', null, caption) : null,
      h('thead', null, head),
      h('tbody', null, ...body),
    );
  }
  const head = h('tr', null, h('th', null, 'cpu'), ...t.columns.map((c) => h('th', { class: LOUD.has(c) ? `loud c-${c}` : undefined }, c)));
  const row = (values: number[]) => values.map((v, i) => cell(t.columns[i], v, drop >= 0 ? values[drop] : undefined));
  const rows = t.rows.map((r) => h('tr', null, h('td', null, `cpu=${r.cpu}`), ...row(r.values)));
  const total = h('tr', { class: 'total' }, h('td', null, 'total'), ...row(t.totals));
  return h(
    'table',
    { class: 'ctstat' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, head),
    h('tbody', null, ...rows, total),
  );
}

/** Before the 2020 rework a merged clash also bumps insert_failed: without drops it is not a loss. */
function cell(col: string, v: number, drop: number | undefined): HTMLTableCellElement {
  const loud = LOUD.has(col) && v > 0;
  const merged = col === 'insert_failed' && drop === 0;
  return h(
    'td',
    {
      class: loud ? `nz c-${col}${merged ? ' merged' : ''}` : v === 0 ? 'zero' : undefined,
      title: loud && merged ? 'clashes merged (no drop)' : undefined,
    },
    int(v),
  );
}

function big(label: string, value: string, sub: string, cls = ''): HTMLElement {
  return h(
    'div',
    { class: `metric ${cls}` },
    h('div', { class: 'metric-label' }, label),
    h('div', { class: 'metric-value' }, value),
    h('div', { class: 'metric-sub' }, sub),
  );
}

function causes(c: Record<string, number>): string {
  const e = Object.entries(c).sort((a, b) => b[1] - a[1]);
  return e.length ? e.map(([k, v]) => `${k} ${int(v)}`).join(', ') : 'none';
}

/** Page-side twin of shape.whatIfLabel (the page may not import host code). */
export function whatIfText(w: WhatIf | undefined): string {
  if (!w) return 'no what-ifs';
  const parts: string[] = [];
  if (w.earlyDropClosing) parts.push('early drop of closing TCP');
  if (w.softTimeout > 0) parts.push(`soft timeout ${w.softTimeout} s while full`);
  if (w.adaptiveThreshold > 0) parts.push(`adaptive timeouts above ${Math.round(w.adaptiveThreshold * 100)} %`);
  return parts.length ? parts.join(' · ') : 'no what-ifs';
}

export function columnTitle(col: VariantColumn, result: PanelResult): string {
  if (result.comparison === 'whatif') return col.role === 'before' ? 'Without what-ifs' : 'With the selected what-ifs';
  return col.role === 'before'
    ? result.detection
      ? 'Detected tree'
      : 'Before'
    : result.detection
      ? 'After the planned backport'
      : 'After';
}

const secs = (x: number) => (x >= 100 ? `${Math.round(x).toLocaleString('en-US')} s` : `${x.toFixed(1)} s`);

/** The timed run (seed 002): what the table did over the run, the paper's headline numbers first. */
function overflowEl(o: OverflowView): HTMLElement {
  const bad = o.dropped > 0 ? 'bad' : 'good';
  const tbl: CounterTable = { columns: o.counters.columns, rows: [], totals: o.counters.totals };
  return h(
    'div',
    { class: 'overflow-result' },
    h(
      'div',
      { class: 'metrics' },
      big(
        'new flows dropped (table full)',
        pct(o.dropRate),
        `${int(o.dropped)} of ${int(o.flows)} · ${ci(o.dropCi)} · UDP ${int(o.droppedUdp)}, TCP ${int(o.droppedTcp)}`,
        bad,
      ),
      big('early_drop', int(o.earlyDrops), 'entries evicted to admit a new flow'),
      big(
        'time table full',
        pct(o.fullFraction),
        `${secs(o.fullSeconds)} at nf_conntrack_max ${int(o.max)} · peak ${int(o.peak)}`,
        o.fullFraction > 0.01 ? 'bad' : 'good',
      ),
    ),
    h('div', { class: 'table-wrap' }, counterTableEl(tbl, 'conntrack -S totals of the timed run (all CPUs)')),
  );
}

export function columnEl(col: VariantColumn, result: PanelResult): HTMLElement {
  const title = columnTitle(col, result);
  const mc = col.mc;
  const ex = col.exhaustive;
  const bad = mc.dropped > 0 ? 'bad' : 'good';
  const unit = mc.latency.unit === 'lookup' ? 'DNS lookups' : 'TCP connects';
  return h(
    'section',
    { class: `card column ${col.role} ${bad}` },
    h(
      'header',
      null,
      h('div', { class: 'role' }, title),
      h('h2', null, col.label),
      h(
        'div',
        { class: 'commits' },
        ...(col.commits.length
          ? col.commits.map((c) => h('code', { class: 'chip' }, c))
          : [h('span', { class: 'muted' }, 'no fix commits')]),
        h('span', { class: 'chip era' }, col.counterEra === 'post2020' ? 'post-2020 counters' : 'pre-2020 counters'),
      ),
      col.hypothesis ? h('p', { class: 'hypothesis' }, `Hypothesis: ${col.hypothesis}`) : null,
      result.scenario.kind === 'overflow'
        ? h('div', { class: 'commits' }, h('span', { class: 'chip whatif' }, whatIfText(col.whatIf)))
        : null,
    ),
    col.overflow ? overflowEl(col.overflow) : null,
    col.overflow ? h('h4', { class: 'race-form' }, 'Race form: two new DNS flows against a full 4-entry table') : null,
    h(
      'div',
      { class: 'metrics' },
      big('packets dropped', pct(mc.dropRate), `${int(mc.dropped)} of ${int(mc.packets)} · ${ci(mc.dropCi)}`, bad),
      big(
        `${unit} delayed`,
        pct(mc.latency.delayedRate),
        `${int(mc.latency.delayed)} of ${int(mc.latency.samples)} · ${ci(mc.latency.delayedCi)}`,
        mc.latency.delayed ? 'bad' : 'good',
      ),
      big(
        'dropping schedules',
        ex.error ? 'n/a' : `${int(ex.dropSchedules)} / ${int(ex.schedules)}`,
        ex.error ? ex.error : `exhaustive, ${ex.packets} packets · P(drop) ${pct(ex.dropProbability)} under a random scheduler`,
        ex.dropSchedules ? 'bad' : 'good',
      ),
    ),
    h('p', { class: 'latency' }, mc.latency.sentence),
    h(
      'p',
      { class: 'muted small' },
      `drop causes: ${causes(mc.causes)} · ${int(mc.trials)} trials (${int(mc.races)} races), ${int(mc.trialsPerSec)} trials/s`,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      counterTableEl(
        mc.counters,
        `conntrack -S as the model counts it (over ${int(mc.trials)} ${mc.latency.unit === 'lookup' ? 'lookups' : 'connect rounds'})`,
      ),
    ),
  );
}

/** Overflow: the timed run decides, in the paper's terms (drops, early drops, time full). */
function overflowVerdict(result: PanelResult): HTMLElement | undefined {
  const [b, a] = result.columns;
  if (!b.overflow || !a.overflow) return undefined;
  const f = (o: OverflowView) => `${pct(o.dropRate)} of new flows dropped, table full ${pct(o.fullFraction)} of the time`;
  const what = result.comparison === 'whatif' ? `With ${whatIfText(a.whatIf)}` : 'After the backport';
  const better = a.overflow.dropped < b.overflow.dropped;
  const text =
    b.overflow.dropped === 0 && a.overflow.dropped === 0
      ? 'The table never refuses a new flow in this run.'
      : `${what}: ${f(b.overflow)} → ${f(a.overflow)}${result.comparison === 'backport' && a.overflow.dropped === b.overflow.dropped ? ' (the backport does not change overflow behaviour; compare the what-ifs instead)' : ''}.`;
  return h('p', { class: `verdict ${better || a.overflow.dropped === 0 ? 'good' : 'bad'}` }, text);
}

export function verdictEl(result: PanelResult): HTMLElement {
  const ov = overflowVerdict(result);
  if (ov) return ov;
  const [b, a] = result.columns;
  const fmt = (c: VariantColumn) => `${pct(c.mc.latency.delayedRate)} of ${c.mc.latency.unit}s delayed`;
  let text: string;
  // Variants chosen by hand (a lens on a fixed race compares the tree without the fix): name the second one.
  const second = result.detection ? 'The backport' : a.label;
  if (b.mc.dropped > 0 && a.mc.dropped === 0) text = `${second} removes the drops in this scenario: ${fmt(b)} → none.`;
  else if (b.mc.dropped > 0 && a.mc.dropped > 0)
    text = `Drops remain after the backport: ${fmt(b)} → ${fmt(a)}. See the explorer for the schedules that still drop.`;
  else if (b.mc.dropped === 0 && a.mc.dropped === 0) text = 'Neither variant drops in this scenario.';
  else text = `The second variant drops where the first does not: ${fmt(b)} → ${fmt(a)}.`;
  return h('p', { class: `verdict ${a.mc.dropped ? 'bad' : 'good'}` }, text);
}

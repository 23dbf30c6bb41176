// The matrix page's pure logic: which rows a filter keeps, how a column sorts, and what each row,
// header, progress line and event list shows, as plain structures. No DOM here (main.ts turns
// these into elements), so the unit tests run all of it under node.

import {
  isSettled,
  verdictLabel,
  type EvidencePointer,
  type FeatureCell,
  type Matrix,
  type MatrixRow,
  type RaceCell,
  type RaceId,
  type ToPage,
} from '../protocol';
import { COLUMNS, type Column as ColumnShape, type MatrixPageState, type SortKey } from '../state';

type Verdict = RaceCell['verdict'];

export type Column = ColumnShape & { key: SortKey };
export const COLS: readonly Column[] = COLUMNS;

/**
 * Ascending verdict order: the fix is there, the race cannot happen in this tree, then the
 * states that need a look, worst last but `unknown` (which says nothing either way) after all.
 * Every verdict has a rank, so no comparison is NaN and a sort is the same in both directions.
 */
export const VERDICT_ORDER: Record<Verdict, number> = {
  fixed: 0,
  'not-applicable': 1,
  conditional: 2,
  partial: 3,
  missing: 4,
  unknown: 5,
};

/** What a verdict cell says (the protocol's `not-applicable` reads as what it means). */
export const verdictText = verdictLabel;

const RACE_KEYS: readonly RaceId[] = COLS.flatMap((c) => (c.race ? [c.race] : []));

const settled = (c: RaceCell): boolean => isSettled(c.verdict);

/** A `/regex/` filter, or null when the text is not one (or does not compile). */
function filterRegex(f: string): RegExp | null | 'bad' {
  if (!(f.length > 2 && f.startsWith('/') && f.endsWith('/'))) return null;
  try {
    return new RegExp(f.slice(1, -1));
  } catch {
    return 'bad';
  }
}

/** Whether a row passes the page's kind, text and show-only filters. */
export function matchesRow(r: MatrixRow, s: Pick<MatrixPageState, 'kind' | 'filter' | 'only'>): boolean {
  if (s.kind && r.kind !== s.kind) return false;
  const f = s.filter.trim();
  if (f) {
    const re = filterRegex(f);
    if (re === 'bad') return false;
    if (re) {
      if (!re.test(r.short)) return false;
    } else {
      const lf = f.toLowerCase();
      if (!r.short.toLowerCase().includes(lf) && !(r.note ?? '').toLowerCase().includes(lf)) return false;
    }
  }
  const races = RACE_KEYS.map((k) => r[k]);
  const only = s.only;
  if (only === '') return true;
  const m = /^(race[1-4]):missing$/.exec(only);
  if (m) return r[m[1] as RaceId].verdict === 'missing';
  switch (only) {
    case 'any:not-fixed':
      return races.some((c) => !settled(c));
    case 'azure':
      return races.some((c) => (c.variant ?? '').startsWith('azure'));
    case 'disagree':
      return races.some((c) => !!c.disagreement);
    case 'status:other':
      return r.status !== 'ok';
  }
  return true;
}

/** Whether the text filter is a `/regex/` that does not compile (the page says so). */
export function badFilter(filter: string): boolean {
  return filterRegex(filter.trim()) === 'bad';
}

/** The value a column sorts by. */
export function sortValue(col: Column, r: MatrixRow): number | string {
  if (col.race) {
    const c = r[col.race];
    // Within a verdict: no variant named, then the upstream commit, then the pre-upstream azure ones.
    return VERDICT_ORDER[c.verdict] * 10 + (!c.variant ? 0 : c.variant.startsWith('azure') ? 2 : 1);
  }
  if (col.feature) {
    const p = r[col.feature].present;
    return p === true ? 0 : p === false ? 1 : 2;
  }
  switch (col.key) {
    case 'kind':
      return r.kind;
    case 'date':
      return r.date ?? 0;
    case 'status':
      return r.status;
    default:
      return r.short;
  }
}

const natural = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

export function columnOf(key: SortKey): Column {
  return COLS.find((c) => c.key === key) ?? COLS[0];
}

/** The rows on show, in the page's order; ties go by ref name (ascending either way). */
export function visibleRows(rows: readonly MatrixRow[], s: MatrixPageState): MatrixRow[] {
  const col = columnOf(s.sort);
  return rows
    .filter((r) => matchesRow(r, s))
    .sort((a, b) => {
      const x = sortValue(col, a);
      const y = sortValue(col, b);
      const d = typeof x === 'number' && typeof y === 'number' ? x - y : natural(String(x), String(y));
      return d * s.dir || natural(a.short, b.short);
    });
}

export interface HeadView {
  key: SortKey;
  label: string;
  title?: string;
  cls: string;
  ariaSort: 'ascending' | 'descending' | 'none';
}

export function headView(s: Pick<MatrixPageState, 'sort' | 'dir'>): HeadView[] {
  return COLS.map((c) => {
    const on = s.sort === c.key;
    return {
      key: c.key,
      label: c.label,
      ...(c.title ? { title: c.title } : {}),
      cls: [c.race ? 'race' : '', on ? (s.dir > 0 ? 'sorted asc' : 'sorted desc') : ''].filter(Boolean).join(' '),
      ariaSort: on ? (s.dir > 0 ? 'ascending' : 'descending') : 'none',
    };
  });
}

/** The sort after a click on a column header: the same column flips, another starts ascending. */
export function nextSort(s: Pick<MatrixPageState, 'sort' | 'dir'>, key: SortKey): { sort: SortKey; dir: 1 | -1 } {
  return { sort: key, dir: s.sort === key ? (s.dir > 0 ? -1 : 1) : 1 };
}

export interface CellView {
  key: SortKey;
  text: string;
  /** A second, quieter line: the variant that decided a verdict (e.g. azure-937963). */
  sub?: string;
  cls: string;
  title?: string;
  /** The evidence the cell's text opens. */
  open?: EvidencePointer;
  /** A second link (⟲): the history commit, when the first link is source evidence. */
  history?: EvidencePointer;
  /** History and source disagree: a ⚠ after the text. */
  flag?: boolean;
}

export interface RowView {
  ref: string;
  cls: string;
  cells: CellView[];
}

/** Tooltip of an evidence link: where it points and what matched. */
export function evidenceTitle(p: EvidencePointer): string {
  const where = p.layer === 'history' ? `commit ${p.ref}` : `${p.ref}:${p.path}${p.line ? `:${p.line}` : ''}`;
  return p.site ? `${where}\n${p.site}` : where;
}

function raceCellView(key: SortKey, c: RaceCell, colTitle?: string): CellView {
  const open = c.evidence.find((e) => e.supports) ?? c.evidence[0];
  const history = c.evidence.find((e) => e.layer === 'history' && e !== open);
  const title = [colTitle, c.explain, c.disagreement ? `⚠ ${c.disagreement}` : ''].filter(Boolean).join('\n');
  return {
    key,
    text: verdictText(c.verdict),
    ...(c.variant ? { sub: c.variant } : {}),
    cls: `verdict v-${c.verdict}${c.disagreement ? ' disagree' : ''}`,
    title,
    ...(open ? { open } : {}),
    ...(history ? { history } : {}),
    ...(c.disagreement ? { flag: true } : {}),
  };
}

function featureCellView(key: SortKey, f: FeatureCell): CellView {
  const open = f.evidence.find((e) => e.supports) ?? f.evidence[0];
  return {
    key,
    text: f.present === 'unknown' ? 'unknown' : f.present ? 'yes' : 'no',
    cls: `feature f-${String(f.present)}`,
    title: f.explain,
    ...(open ? { open } : {}),
  };
}

export function dateText(unixSeconds: number | null): string {
  return unixSeconds ? new Date(unixSeconds * 1000).toISOString().slice(0, 10) : '';
}

export function rowView(r: MatrixRow): RowView {
  const cells = COLS.map((c): CellView => {
    if (c.race) return raceCellView(c.key, r[c.race], c.title);
    if (c.feature) return featureCellView(c.key, r[c.feature]);
    switch (c.key) {
      case 'ref':
        return {
          key: c.key,
          text: r.short,
          cls: 'ref',
          title: [r.ref, r.commit ?? '', r.path && r.status !== 'ok' ? r.path : ''].filter(Boolean).join('\n'),
        };
      case 'kind':
        return { key: c.key, text: r.kind, cls: 'kind' };
      case 'date':
        return { key: c.key, text: dateText(r.date), cls: 'date' };
      default:
        return { key: c.key, text: r.status === 'ok' ? '' : r.status, cls: 'status', ...(r.note ? { title: r.note } : {}) };
    }
  });
  return { ref: r.ref, cls: `row-${r.status}`, cells };
}

/** The line under the controls once a matrix is on show. */
export function statusText(m: Matrix, shown: number, note?: string): string {
  const s = m.stats;
  return `${note ? `${note} · ` : ''}${shown} of ${m.rows.length} refs shown · ${s.distinctBlobs} distinct blobs · swept in ${(s.ms.total / 1000).toFixed(1)} s`;
}

export type ProgressMsg = Extract<ToPage, { type: 'progress' }>;

export interface ProgressView {
  /** 0..1 for the bar; undefined: indeterminate. */
  value: number | undefined;
  text: string;
}

const PHASE_WORDS: Record<string, string> = {
  refs: 'listing refs',
  resolve: 'resolving files',
  detect: 'detecting',
  history: 'reading history',
  lines: 'placing tags',
};

/**
 * A running sweep as the page shows it: the phase's work done/total, refs answered of all,
 * the rate, and the ref the sweep is at. The bar follows the refs answered when the sweep says,
 * else the phase's own done/total.
 */
export function progressView(p: ProgressMsg): ProgressView {
  const parts: string[] = [];
  parts.push(p.message || PHASE_WORDS[p.phase] || p.phase);
  // A phase of one step (listing refs, reading history) has no count worth saying.
  if (p.total > 1 && !p.message.includes(`${p.done} of ${p.total}`)) parts.push(`${p.done}/${p.total}`);
  if (p.refs !== undefined && p.refs > 0 && p.refsDone !== undefined) parts.push(`${Math.min(p.refsDone, p.refs)}/${p.refs} refs`);
  if (p.refsPerSecond !== undefined && Number.isFinite(p.refsPerSecond) && p.refsPerSecond > 0)
    parts.push(`${p.refsPerSecond >= 10 ? Math.round(p.refsPerSecond) : p.refsPerSecond.toFixed(1)} refs/s`);
  if (p.current) parts.push(`at ${p.current}`);
  const frac =
    p.refs !== undefined && p.refs > 0 && p.refsDone !== undefined ? p.refsDone / p.refs : p.total > 0 ? p.done / p.total : undefined;
  return { value: frac === undefined ? undefined : Math.max(0, Math.min(1, frac)), text: parts.join(' · ') };
}

export interface EventSection {
  title: string;
  items: string[];
}

/** Where each fix entered, was lost and came back, and the sweep's warnings (empty ones left out). */
export function eventSections(m: Matrix): EventSection[] {
  const v = (x: string | null | undefined): string => (x ? ` (${x})` : '');
  return [
    { title: 'Where each fix entered', items: m.entered.map((e) => `${e.fix} on ${e.line}: ${e.ref}${v(e.variant)}`) },
    {
      title: 'Where a fix was lost',
      items: m.lost.map((l) => `${l.fix} on ${l.line}: lost at ${l.ref} after ${l.lastCarrying} — ${l.cause}: ${l.explain}`),
    },
    { title: 'Where a lost fix came back', items: m.restored.map((r) => `${r.fix} on ${r.line}: back at ${r.ref} (lost at ${r.lostAt})`) },
    { title: 'Warnings', items: [...m.warnings] },
    { title: 'Hints', items: [...(m.hints ?? [])] },
  ].filter((s) => s.items.length > 0);
}

/** Ref patterns typed in the box, as the host's `rerun` takes them. */
export function refPatterns(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** The table as the page's `rendered` acknowledgement says it: header labels, then rows of cell texts. */
export function renderedTable(heads: readonly HeadView[], rows: readonly RowView[], maxRows: number): string {
  const line = (cells: readonly string[]): string => cells.map((c) => c.replace(/[|\n]/g, ' ')).join('|');
  const said = (c: CellView): string => (c.sub ? `${c.text} · ${c.sub}` : c.text);
  return [line(heads.map((x) => x.label)), ...rows.slice(0, maxRows).map((r) => line(r.cells.map(said)))].join('\n');
}

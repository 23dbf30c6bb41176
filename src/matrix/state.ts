// What the matrix page keeps with getState/setState, and what the host may take from it when a
// window reload restores the panel. No `vscode` import: unit tests cover all of it. The state
// comes back from the page, so it is validated like any page message before the host uses it.
// Shared with the page: no node modules.

import type { RaceId } from '../core/types';

/** A matrix column: `race` columns show a race's verdict, `feature` columns a feature's presence. */
export interface Column {
  key: string;
  label: string;
  race?: RaceId;
  feature?: 'zone' | 'rework' | 'reverse';
  title?: string;
}

/**
 * The matrix's columns, in order: the page renders them, the host validates a restored sort key
 * against them. `race` columns show a race's verdict, `feature` columns a feature's presence.
 */
export const COLUMNS = [
  { key: 'ref', label: 'Ref' },
  { key: 'kind', label: 'Kind' },
  { key: 'date', label: 'Date' },
  { key: 'race1', label: 'Race 1', race: 'race1', title: 'Race 1: identical tuples, NAT done (ed07d9a021df)' },
  { key: 'race2', label: 'Race 2', race: 'race2', title: 'Race 2: SNAT picks another port for a same-origin entry (4e35c1cb9460)' },
  { key: 'race3', label: 'Race 3', race: 'race3', title: 'Race 3: DNAT to different endpoints (2020 rework, 6a757c07e51f)' },
  {
    key: 'race4',
    label: 'Race 4',
    race: 'race4',
    title:
      'Race 4: nfqueue redoes NAT against a clashing entry on reinject (2024, 8af79d3edb5f); "not in this tree" when the tree has no nfqueue clash code',
  },
  {
    key: 'zone',
    label: 'Zone',
    feature: 'zone',
    title: 'Zone follow-up 07998281c268 of the race 2 fix: the same-origin skip also compares zones',
  },
  { key: 'rework', label: 'Rework', feature: 'rework', title: 'The 2020 clash rework (6a757c07e51f and its series)' },
  { key: 'reverse', label: 'Reverse', feature: 'reverse', title: 'The 2024 reverse-direction clash merge (nf_ct_can_merge, a4e6a1031e77)' },
  { key: 'status', label: 'File', title: 'Where nf_conntrack_core.c is at this ref: empty when at its usual path' },
] as const satisfies readonly Column[];

export type SortKey = (typeof COLUMNS)[number]['key'];
export const SORT_KEYS: readonly SortKey[] = COLUMNS.map((c) => c.key);

/** The "show only" filter: value and what the control says. */
export const ONLY_OPTIONS = [
  { value: '', label: 'all rows' },
  { value: 'race1:missing', label: 'race 1 missing' },
  { value: 'race2:missing', label: 'race 2 missing' },
  { value: 'race3:missing', label: 'race 3 missing' },
  { value: 'race4:missing', label: 'race 4 missing' },
  { value: 'any:not-fixed', label: 'any race not fixed' },
  { value: 'azure', label: 'azure variants' },
  { value: 'disagree', label: 'history disagrees' },
  { value: 'status:other', label: 'moved or absent' },
] as const;
export type OnlyValue = (typeof ONLY_OPTIONS)[number]['value'];
export const ONLY_VALUES: readonly OnlyValue[] = ONLY_OPTIONS.map((o) => o.value);

export const KIND_OPTIONS = [
  { value: '', label: 'branches and tags' },
  { value: 'branch', label: 'branches' },
  { value: 'tag', label: 'tags' },
  { value: 'remote', label: 'remote branches' },
] as const;
export type KindValue = (typeof KIND_OPTIONS)[number]['value'];
export const KIND_VALUES: readonly KindValue[] = KIND_OPTIONS.map((o) => o.value);

export interface MatrixPageState {
  filter: string;
  only: OnlyValue;
  kind: KindValue;
  sort: SortKey;
  dir: 1 | -1;
  /** Text of the ref-patterns box. */
  refs: string;
  /** The repository and selection of the sweep on show (set by the host's `target` message). */
  repo?: string;
  selection?: string[];
}

export const DEFAULT_PAGE_STATE: MatrixPageState = { filter: '', only: '', kind: '', sort: 'ref', dir: 1, refs: '' };

const MAX_TEXT = 1000;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length <= MAX_TEXT && !/[\0-\x1f]/.test(v) ? v : undefined);
const oneOf = <T extends string>(v: unknown, allowed: readonly T[]): T | undefined =>
  (allowed as readonly unknown[]).includes(v) ? (v as T) : undefined;

/** Ref patterns as the sweep accepts them: non-empty, trimmed, never option-like. */
export function cleanRefs(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((r): r is string => typeof r === 'string')
    .map((r) => r.trim())
    .filter((r) => r !== '' && !r.startsWith('-') && r.length <= 200 && !/[\0-\x1f]/.test(r))
    .slice(0, 200);
}

/** The page's state with every field checked; anything unknown falls back to the default. */
export function normalizePageState(raw: unknown): MatrixPageState {
  const r = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const s: MatrixPageState = {
    filter: text(r.filter) ?? DEFAULT_PAGE_STATE.filter,
    only: oneOf(r.only, ONLY_VALUES) ?? DEFAULT_PAGE_STATE.only,
    kind: oneOf(r.kind, KIND_VALUES) ?? DEFAULT_PAGE_STATE.kind,
    sort: oneOf(r.sort, SORT_KEYS) ?? DEFAULT_PAGE_STATE.sort,
    dir: r.dir === -1 ? -1 : 1,
    refs: text(r.refs) ?? DEFAULT_PAGE_STATE.refs,
  };
  const target = restoreTarget(r);
  if (target) Object.assign(s, { repo: target.repo, selection: target.refs });
  return s;
}

/**
 * The repository and ref selection to show again after a reload, or null when the state does
 * not name one (a panel closed before its first sweep, or a state from an older page).
 */
export function restoreTarget(raw: unknown): { repo: string; refs: string[] } | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const repo = text(r.repo);
  if (!repo || !isAbsolutePath(repo)) return null;
  return { repo, refs: cleanRefs(r.selection) };
}

/** POSIX `/…` or Windows `C:\…` (the host normalizes it before use). */
function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p);
}

// What the matrix page keeps with getState/setState, and what the host may take from it when a
// window reload restores the panel. No `vscode` import: unit tests cover all of it. The state
// comes back from the page, so it is validated like any page message before the host uses it.
// Shared with the page: no node modules.

export const SORT_KEYS = ['ref', 'kind', 'date', 'race1', 'race2', 'race3', 'zone', 'rework', 'reverse', 'status'] as const;
export const ONLY_VALUES = [
  '',
  'race1:missing',
  'race2:missing',
  'race3:missing',
  'any:not-fixed',
  'azure',
  'disagree',
  'status:other',
] as const;
export const KIND_VALUES = ['', 'branch', 'tag', 'remote'] as const;

export interface MatrixPageState {
  filter: string;
  only: (typeof ONLY_VALUES)[number];
  kind: (typeof KIND_VALUES)[number];
  sort: (typeof SORT_KEYS)[number];
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

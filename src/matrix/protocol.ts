// Messages between the matrix view's host side and its page, and the conntrack-ref: document
// addresses. Shared with the page (src/matrix/page): no `vscode`, no node modules.

import { CMD } from '../ids';
import type { ExportFormat } from '../core/matrix/export';
import type { EvidencePointer, Matrix } from '../core/matrix/types';

export type { ExportFormat };
export type { EvidencePointer, FeatureCell, Matrix, MatrixRow, RaceCell } from '../core/matrix/types';
export type { RaceId } from '../core/types';
export { isSettled, verdictLabel } from '../core/types';

export const SHOW_MATRIX_COMMAND = CMD.showMatrix;
export const REF_SCHEME = 'conntrack-ref';
export const MATRIX_VIEW_TYPE = 'conntrackBackport.matrix';

/** Host -> page. */
export type ToPage =
  /** `note`: said above the table, e.g. that this is the kept sweep shown after a reload. */
  | { type: 'matrix'; matrix: Matrix; note?: string }
  /** The repository and selection on show: the page keeps them in its state for a reload. */
  | { type: 'target'; repo: string; refs: string[] }
  | { type: 'busy'; message: string }
  /** A running sweep: phase, refs answered so far (an estimate while blobs are detected) and refs/s. */
  | {
      type: 'progress';
      phase: string;
      message: string;
      /** Work of the phase (blobs while detecting). */
      done: number;
      total: number;
      refs?: number;
      refsDone?: number;
      refsPerSecond?: number;
      /** The ref the sweep is at (a ref whose file is the blob being detected). */
      current?: string;
    }
  | { type: 'error'; message: string }
  /** Restricted Mode: why there is no sweep (history is off); the page keeps its controls off. */
  | { type: 'restricted'; message: string };

/** Page -> host. */
export type ToHost =
  | { type: 'ready' }
  | { type: 'open'; pointer: EvidencePointer }
  | { type: 'export'; format: ExportFormat }
  | { type: 'rerun'; refs: string[] }
  /** Stop the running sweep (it then answers with an error message "Sweep cancelled."). */
  | { type: 'cancel' }
  /**
   * What the page now shows (its render acknowledgement; the host only logs it, so the
   * extension suite sees what reached the screen): the progress line, the notice, or the
   * table as lines of cells joined by `|` (header first, at most RENDERED_ROWS rows).
   */
  | { type: 'rendered'; what: RenderedWhat; text: string };

export type RenderedWhat = 'matrix' | 'progress' | 'notice';
export const RENDERED_ROWS = 50;
const RENDERED_MAX = 8000;

const HEX = /^[0-9a-f]{7,40}$/;

/** A path inside a repository: relative, no `..`, no option-like or control characters. */
export function safeRepoPath(p: unknown): p is string {
  return (
    typeof p === 'string' &&
    p.length > 0 &&
    p.length < 4096 &&
    !p.startsWith('/') &&
    !p.startsWith('-') &&
    !/[\0-\x1f]/.test(p) &&
    !p.split('/').includes('..')
  );
}

/** Validates a page message: the page is untrusted input like any other. */
export function parseToHost(raw: unknown): ToHost | null {
  if (!raw || typeof raw !== 'object') return null;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'cancel':
      return { type: 'cancel' };
    case 'rendered':
      return (m.what === 'matrix' || m.what === 'progress' || m.what === 'notice') && typeof m.text === 'string'
        ? { type: 'rendered', what: m.what, text: m.text.slice(0, RENDERED_MAX) }
        : null;
    case 'export':
      return m.format === 'markdown' || m.format === 'csv' || m.format === 'json' ? { type: 'export', format: m.format } : null;
    case 'rerun': {
      const refs = Array.isArray(m.refs)
        ? m.refs.filter((r): r is string => typeof r === 'string' && r.trim() !== '' && !r.startsWith('-')).map((r) => r.trim())
        : [];
      return { type: 'rerun', refs };
    }
    case 'open': {
      const p = m.pointer as Partial<EvidencePointer> | undefined;
      if (!p || typeof p.commit !== 'string' || !HEX.test(p.commit) || !safeRepoPath(p.path)) return null;
      const line = typeof p.line === 'number' && p.line > 0 ? Math.floor(p.line) : undefined;
      const endLine = typeof p.endLine === 'number' && p.endLine >= (line ?? 1) ? Math.floor(p.endLine) : undefined;
      return {
        type: 'open',
        pointer: {
          ref: String(p.ref ?? p.commit).slice(0, 200),
          commit: p.commit,
          path: p.path,
          line,
          endLine,
          layer: p.layer === 'history' ? 'history' : 'source',
          site: String(p.site ?? ''),
          supports: !!p.supports,
        },
      };
    }
    default:
      return null;
  }
}

/**
 * What a conntrack-ref: document shows: a file at a commit (`file`), or a commit with its patch
 * limited to the file (`commit`). Encoded in the query so the path part can be the file's path,
 * which gives the editor tab a sensible name and C highlighting.
 */
export interface RefDocument {
  repo: string;
  commit: string;
  path: string;
  /** Ref name shown to the user (the tab title); never used to read. */
  ref: string;
  show: 'file' | 'commit';
}

export function refDocumentQuery(d: RefDocument): string {
  return new URLSearchParams({ repo: d.repo, commit: d.commit, path: d.path, ref: d.ref, show: d.show }).toString();
}

export function parseRefDocumentQuery(query: string): RefDocument | null {
  const q = new URLSearchParams(query);
  const d = {
    repo: q.get('repo') ?? '',
    commit: q.get('commit') ?? '',
    path: q.get('path') ?? '',
    ref: q.get('ref') ?? '',
    show: q.get('show') === 'commit' ? ('commit' as const) : ('file' as const),
  };
  if (!d.repo || !HEX.test(d.commit) || !safeRepoPath(d.path)) return null;
  return d;
}

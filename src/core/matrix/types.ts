// The branch/tag matrix contract: what `sweep --json` prints and what the matrix view renders.
// Keep the JSON keys stable. Node-free (the matrix page imports these types).

import type { Layer, RaceId, Verdict, VariantId } from '../types';
import { RACES } from '../types';
import type { RefKind } from '../git/refKind';

export type { RefKind } from '../git/refKind';

/** Where a cell's evidence lives: the file at a ref and a line, or a commit of the history layer. */
export interface EvidencePointer {
  /** Ref (short name) or commit the file is read at. */
  ref: string;
  /** Commit id the ref resolved to, so the pointer stays valid when the ref moves. */
  commit: string;
  path: string;
  /** 1-based; absent for history evidence. */
  line?: number;
  endLine?: number;
  layer: Layer;
  /** What matched (signature and fragment, or the commit subject). */
  site: string;
  supports: boolean;
}

export interface RaceCell {
  verdict: Verdict;
  variant: VariantId | null;
  decidedBy?: Layer;
  explain: string;
  disagreement?: string;
  evidence: EvidencePointer[];
}

export interface FeatureCell {
  present: boolean | 'unknown';
  explain: string;
  evidence: EvidencePointer[];
}

/**
 * ok: the file is at the expected path; moved: found at another path (`path` says where);
 * absent: not in this tree; not-kernel: a file is there but it is not nf_conntrack_core.c;
 * no-commit: the ref does not lead to a commit.
 */
export type RowStatus = 'ok' | 'moved' | 'absent' | 'not-kernel' | 'no-commit';

export interface HistoryMark {
  commit: string;
  subject: string;
  variant?: VariantId;
  reverts?: boolean;
  matchedBy: string;
}

export interface MatrixRow {
  ref: string;
  short: string;
  kind: RefKind;
  /** Unix seconds (tag date for annotated tags, else committer date). */
  date: number | null;
  commit: string | null;
  blob: string | null;
  path: string | null;
  status: RowStatus;
  note?: string;
  race1: RaceCell;
  race2: RaceCell;
  race3: RaceCell;
  race4: RaceCell;
  zone: FeatureCell;
  rework: FeatureCell;
  reverse: FeatureCell;
  /** History-layer commits (fixes and reverts) this ref contains, oldest first. */
  history: HistoryMark[];
}

/** The fixes "entered/lost" tracks. A ref carries a race fix when its verdict is `fixed`. */
export type FixKey = RaceId | 'zone';
export const FIX_KEYS: readonly FixKey[] = [...RACES, 'zone'];

/**
 * A line of development: the refs (tags, then the branch itself) whose commits sit on the
 * first-parent chain of a branch, oldest first. Tags on no branch's chain are grouped into
 * `series:` lines by name prefix and ordered by date instead.
 */
export interface MatrixLine {
  name: string;
  kind: 'branch' | 'series';
  /** Short ref names, oldest first. */
  refs: string[];
}

export interface FixEntered {
  fix: FixKey;
  line: string;
  /** First ref on the line that carries the fix (a tag, or the branch when no tag does yet). */
  ref: string;
  date: number | null;
  variant: VariantId | null;
}

export interface FixLost {
  fix: FixKey;
  line: string;
  /** First ref on the line that no longer carries it. */
  ref: string;
  /** The ref before it on the line that still did. */
  lastCarrying: string;
  cause: 'revert' | 'merge' | 'edit' | 'unknown';
  /** The revert or merge commit, when found. */
  commit?: string;
  explain: string;
}

export interface FixRestored {
  fix: FixKey;
  line: string;
  ref: string;
  lostAt: string;
  variant: VariantId | null;
}

export interface MatrixStats {
  refs: number;
  distinctCommits: number;
  distinctBlobs: number;
  /** Blobs run through the detector (= distinct blobs that are files). */
  parsedBlobs: number;
  /** Distinct nf_nat_core.c blobs scanned for the azure 952939 hypothesis. */
  natBlobs: number;
  historyCommits: number;
  /** Nodes of the path-simplified graph (commits touching the files, ref commits, joining merges). */
  graphCommits: number;
  /** Refs answered from a kept sweep without any work (all of them when nothing moved). */
  reusedRefs?: number;
  /** Blobs run through the detector by this sweep (the rest came from the kept sweep). */
  detectedNow?: number;
  /** How the history graph was had: full walk, incremental above the kept tips, kept, none. */
  historyWalk?: string;
  /** How tags were placed on lines: 'full' (first-parent walk), 'kept' (the kept links), 'none'. */
  linesWalk?: string;
  ms: { refs: number; resolve: number; detect: number; history: number; lines: number; total: number };
}

export interface Matrix {
  repo: string;
  path: string;
  selection: string[];
  generatedAt: string;
  rows: MatrixRow[];
  lines: MatrixLine[];
  entered: FixEntered[];
  lost: FixLost[];
  restored: FixRestored[];
  stats: MatrixStats;
  warnings: string[];
  /** Advice that changes no verdict (e.g. write a commit-graph to make history walks faster). */
  hints?: string[];
}

export interface SweepProgress {
  phase: 'refs' | 'resolve' | 'detect' | 'history' | 'lines';
  done: number;
  total: number;
  message: string;
  /** Refs in the sweep, refs answered so far (an estimate while blobs are detected), and the rate. */
  refs?: number;
  refsDone?: number;
  refsPerSecond?: number;
  elapsedMs?: number;
  /** While detecting: a ref whose file is the blob just read (where the sweep is). */
  current?: string;
}

export interface SweepOptions {
  /** Ref patterns (see refMatcher); empty = all branches and tags. */
  refs?: string[];
  /** Path of the file inside the tree (default net/netfilter/nf_conntrack_core.c). */
  path?: string;
  /** Join the history layer (default true). */
  history?: boolean;
  /**
   * Upstream commit ids to use instead of the catalogue's for the patch-id layer (mirrors,
   * rewritten histories), as detectPath's `overrides`. Hex ids only.
   */
  overrides?: Partial<Record<VariantId, string>>;
  /** Compute lines and entered/lost (default true). */
  lines?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: SweepProgress) => void;
  /** Keep the sweep in this directory and reuse what did not move (see kept.ts). */
  keep?: KeepOptions;
  /** Worker threads detecting blobs (default: one per core, at most 4; 0 or 1: in this thread). */
  detectThreads?: number;
}

/** Where kept sweeps live and how much of them (see kept.ts). */
export interface KeepOptions {
  dir: string;
  maxBytes?: number;
  maxFiles?: number;
}

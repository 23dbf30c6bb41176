// The history layer over a whole sweep: the commits touching the file are listed once (one
// path-simplified walk from every swept commit, git/graph.ts), classified once, and each ref's
// share of them comes from that small graph's ancestor sets instead of one `git log` per ref.

import { classifyCommit, isAzureMarker } from '../history/analyze';
import type { CommitRecord } from '../git/reader';
import type { CommitGraph } from '../git/graph';
import type { HistoryCommitEvidence, HistoryReport } from '../types';

export interface ClassifiedCommit {
  sha: string;
  subject: string;
  /** Classification outside / inside an azure tree (same-subject postings differ). */
  plain: HistoryCommitEvidence | null;
  azure: HistoryCommitEvidence | null;
  azureMarker: boolean;
}

/** Commits the catalogue recognises (fixes, postings, reverts) and azure markers; the rest are dropped. */
export function classifyAll(records: CommitRecord[]): ClassifiedCommit[] {
  const out: ClassifiedCommit[] = [];
  for (const c of records) {
    const plain = classifyCommit(c, false);
    const azure = classifyCommit(c, true);
    const azureMarker = isAzureMarker(c);
    if (plain || azure || azureMarker) out.push({ sha: c.sha, subject: c.subject, plain, azure, azureMarker });
  }
  return out;
}

/** The history report one ref would get from analyzeHistory, built from the graph's ancestor set. */
export function historyForCommit(graph: CommitGraph, byId: Map<string, ClassifiedCommit>, commit: string, relPath: string): HistoryReport {
  const contained = graph
    .markedAncestors(commit)
    .map((s) => byId.get(s)!)
    .filter(Boolean);
  const azureContext = contained.some((c) => c.azureMarker);
  const found = contained.map((c) => (azureContext ? c.azure : c.plain)).filter((e): e is HistoryCommitEvidence => !!e);
  // Oldest first (walk order): an apply followed by a revert of the same entry cancels out.
  const net: HistoryReport['net'] = {};
  for (const ev of found) if (ev.variant) net[ev.variant] = ev.reverts ? 'reverted' : 'applied';
  return { available: true, relPath, commitsTouchingFile: found.length, commits: [...found].reverse(), net };
}

/**
 * Adds patch-id matches to the classified list. A match may be a commit already kept only as an
 * azure marker: it then gains the classification instead of appearing twice.
 */
export function mergeClassified(classified: ClassifiedCommit[], matches: ClassifiedCommit[]): ClassifiedCommit[] {
  if (!matches.length) return classified;
  const byId = new Map(classified.map((c) => [c.sha, c]));
  for (const m of matches) {
    const known = byId.get(m.sha);
    if (known) Object.assign(known, { plain: m.plain, azure: m.azure });
    else byId.set(m.sha, m);
  }
  return [...byId.values()];
}

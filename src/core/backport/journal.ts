// The run journal: a small JSON file in the git dir that says a backport is under way, where
// the user was before it (branch, HEAD, stash, backup ref) and which steps are committed. It is
// rewritten atomically after every step, so a run killed at any moment can be resumed or
// rolled back by the next process.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedPlan } from './resolve';

export type JournalState = 'running' | 'conflict';

export interface Journal {
  version: 1;
  startedAt: string;
  pid: number;
  backupRef: string;
  origBranch: string | null;
  origHead: string;
  /** Branch the run created, or null when it works on the original branch. */
  workBranch: string | null;
  /** Commit id of the stash the run made (with its keep-alive ref), or null. */
  stash: string | null;
  stashRef: string | null;
  resolved: ResolvedPlan;
  /** Commits made so far, one per completed step (index = step index). */
  done: string[];
  state: JournalState;
  /** Files that conflicted at step `done.length`, when state is 'conflict'. */
  conflicted?: string[];
}

export const journalPath = (gitDir: string): string => path.join(gitDir, 'conntrack-backport', 'journal.json');

export function readJournal(gitDir: string): Journal | null {
  try {
    return JSON.parse(fs.readFileSync(journalPath(gitDir), 'utf8')) as Journal;
  } catch {
    return null;
  }
}

export function writeJournal(gitDir: string, j: Journal): void {
  const file = journalPath(gitDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(j, null, 2));
  fs.renameSync(tmp, file);
}

export function removeJournal(gitDir: string): void {
  fs.rmSync(journalPath(gitDir), { force: true });
}

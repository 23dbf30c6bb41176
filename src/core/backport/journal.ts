// The run journal: a small JSON file in the git dir that says a backport is under way, where
// the user was before it (branch, HEAD, stash, backup ref), which phase it is in and which
// steps are committed. It is written atomically BEFORE each git action that changes the
// repository (the intent: the phase, the stash message, the branch name), so a run killed at
// any instant leaves a journal that, read together with what git shows (HEAD, branch, stash
// list, index), says exactly how to go forward (resume) or back (abort).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedPlan } from './resolve';

export type JournalState = 'running' | 'conflict';

/**
 * Where the run is: 'stash' (about to stash the user's changes), 'branch' (about to create the
 * work branch), 'steps', 'verify' (detection must read the upstream state), 'restore' (about to
 * give the stash back), 'abort' (rolling back). Journals without it (version 1) are in 'steps'.
 */
export type JournalPhase = 'stash' | 'branch' | 'steps' | 'verify' | 'restore' | 'abort';

export interface Journal {
  version: 1 | 2;
  phase?: JournalPhase;
  /** The unique message of the run's stash entry, written before `git stash push` (the intent). */
  stashMessage?: string | null;
  /** Keep the result when detection afterwards does not read the upstream state. */
  keepOnMismatch?: boolean;
  /** Verdict labels after the run, once verified (for the answer of a resumed 'restore'). */
  after?: Record<string, string>;
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

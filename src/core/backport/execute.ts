// Executing a backport plan, safely: refuse on a dirty tree or an operation in progress (or
// stash only when asked), record a backup ref and a journal before the first step, work on a
// new branch, commit one step at a time, stop on a conflict for continue/abort, roll back by
// itself on any other failure, and re-run detection at the end.
//
// Test hooks (used by test/unit/backport-faults.test.ts): when the environment sets
// CONNTRACK_BACKPORT_PAUSE_AFTER_STEP=k, the run prints "conntrack-backport: paused after step k"
// on stderr after committing step k and waits forever, so a test can kill the process there;
// CONNTRACK_BACKPORT_EXIT_AFTER_STEP=k exits at that point instead.

import * as path from 'node:path';
import { detectPath } from '../detect';
import { CliGitWriter, GitWriter, gitErrorText } from '../git/writer';
import { refusesOption } from '../git/reader';
import { verdictLabel } from '../report';
import type { DetectionResult, RaceId } from '../types';
import { Journal, readJournal, removeJournal, writeJournal } from './journal';
import type { BackportPlan } from './plan';
import { BackportError, backportedMessage, resolvePlan, ResolvedPlan, writePatchForAm } from './resolve';

export type RunStatus = 'done' | 'conflict' | 'refused' | 'failed' | 'cancelled' | 'aborted' | 'nothing-to-do';

export interface ProgressEvent {
  phase: 'check' | 'backup' | 'fetch' | 'stash' | 'branch' | 'step' | 'detect' | 'restore' | 'rollback';
  /** 1-based step number and total, for phase 'step'. */
  step?: number;
  total?: number;
  message: string;
}

export interface RunResult {
  status: RunStatus;
  /** What happened and how to get back, for humans. */
  message: string;
  backupRef?: string;
  /** Branch the commits are on (or were meant for). */
  branch?: string | null;
  commits: string[];
  /** Set for status 'conflict': the step that stopped and its files. */
  conflict?: { step: number; subject: string; files: string[] };
  /** The run undid itself (failure or cancel) and the repository is as before. */
  rolledBack?: boolean;
  stash?: { sha: string; restored: boolean; message?: string };
  before?: Record<RaceId, string>;
  after?: Record<RaceId, string>;
  afterDetection?: DetectionResult;
  /** Race 1 and 2 fixed with the upstream variants and no azure variant left. */
  upstreamState?: boolean;
  errorCode?: string;
}

export interface ExecuteOptions {
  /** Stash local changes (untracked included) and restore them afterwards. Off unless asked. */
  stash?: boolean;
  onProgress?: (e: ProgressEvent) => void;
  /** Checked between steps; a cancelled run rolls back. */
  signal?: AbortSignal;
  /** Skip commit hooks (`--no-verify`); off by default so the user's checks run. */
  noVerify?: boolean;
  /** Re-run detection after the last step (default true). */
  detectAfter?: boolean;
  now?: () => Date;
  git?: GitWriter;
}

export interface ContinueOptions extends ExecuteOptions {
  /** What was changed to resolve the conflict (the `[name: …]` note). */
  note?: string;
  noteName?: string;
}

const BACKUP_PREFIX = 'refs/conntrack-backport/backup/';
const STASH_PREFIX = 'refs/conntrack-backport/stash/';

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

const howBack = (j: { backupRef: string; origBranch: string | null; origHead: string }): string =>
  `your previous state is kept at ${j.backupRef} (${j.origHead.slice(0, 12)}${j.origBranch ? `, branch ${j.origBranch}` : ', detached HEAD'}); to go back by hand: git checkout ${j.origBranch ?? j.origHead} && git reset --hard ${j.backupRef}`;

async function root(repo: string): Promise<string> {
  const g = new CliGitWriter(repo);
  const r = await g.root();
  if (!r) throw new BackportError('missing-commit', `${repo} is not inside a git checkout`);
  return r;
}

/** A run that was interrupted, stopped on a conflict, or is going on in another process. */
export async function pendingRun(repo: string, git?: GitWriter): Promise<Journal | null> {
  const g = git ?? new CliGitWriter(await root(repo));
  return readJournal(await g.gitDir());
}

/** Apply a plan. Never throws for repository states; the result says what happened. */
export async function applyPlan(repo: string, plan: BackportPlan, opts: ExecuteOptions = {}): Promise<RunResult> {
  const top = await root(repo);
  const git = opts.git ?? new CliGitWriter(top);
  const gitDir = await git.gitDir();
  const progress = opts.onProgress ?? (() => undefined);
  const base: RunResult = { status: 'refused', message: '', commits: [], before: plan.before, branch: plan.options.branch };

  const pending = readJournal(gitDir);
  if (pending) return { ...base, backupRef: pending.backupRef, message: `a backport run is already pending here (${pending.state}, started ${pending.startedAt}): continue or abort it first; ${howBack(pending)}` };
  if (plan.blocked) {
    // A conflicted cherry-pick also blocks detection (markers in the file): name the operation first.
    const ops = await git.inProgress();
    if (ops.length) return { ...base, errorCode: 'in-progress', message: `a ${ops.join(' and ')} is in progress: finish or abort it first (the plan is blocked too: ${plan.blocked})` };
    return { ...base, message: `plan blocked: ${plan.blocked}` };
  }
  if (!plan.steps.length) return { ...base, status: 'nothing-to-do', message: plan.noop ?? 'nothing to do' };

  // The backup ref comes first, so every answer below can name it.
  progress({ phase: 'backup', message: 'recording a backup ref' });
  const origHead = await git.resolve('HEAD');
  if (!origHead) return { ...base, message: 'the repository has no commit yet' };
  const status0 = await git.status();
  const origBranch = status0.branch;
  const now = (opts.now ?? (() => new Date()))();
  let backupRef = BACKUP_PREFIX + stamp(now);
  for (let i = 2; await git.resolve(backupRef); i++) backupRef = `${BACKUP_PREFIX}${stamp(now)}-${i}`;
  await git.updateRef(backupRef, origHead);
  const where = { backupRef, origBranch, origHead };
  const refuse = (message: string, errorCode?: string): RunResult => ({ ...base, backupRef, errorCode, message: `${message}; nothing was changed — ${howBack(where)}` });

  progress({ phase: 'check', message: 'checking the repository state' });
  const ops = await git.inProgress();
  if (ops.length) return refuse(`a ${ops.join(' and ')} is in progress: finish or abort it first`, 'in-progress');
  if (status0.conflicted.length) return refuse(`unresolved conflicts in ${status0.conflicted.join(', ')}`, 'conflicted');
  const dirty = !status0.clean;
  if (dirty && !opts.stash) return refuse(`the work tree has uncommitted changes (${[...status0.staged, ...status0.unstaged].slice(0, 5).join(', ')}): commit them, or pass the stash option`, 'dirty');
  const branch = plan.options.branch;
  if (branch) {
    refusesOption(branch);
    if (await git.branchExists(branch)) return refuse(`branch ${branch} already exists: name another branch`, 'branch-exists');
  }

  progress({ phase: 'fetch', message: 'fetching the upstream commits and writing the messages' });
  let resolved: ResolvedPlan;
  try {
    resolved = await resolvePlan(plan, git, { fetch: true });
  } catch (e) {
    return refuse(e instanceof BackportError ? e.message : gitErrorText(e), e instanceof BackportError ? e.code : 'resolve');
  }
  const touched = new Set(resolved.steps.flatMap((s) => s.paths));
  const inTheWay = status0.untracked.filter((f) => touched.has(f));
  if (inTheWay.length && !opts.stash) return refuse(`untracked files are in the way of the backport: ${inTheWay.join(', ')} (move them away, or pass the stash option)`, 'untracked');

  let stash: string | null = null;
  let stashRef: string | null = null;
  if (dirty || (inTheWay.length && opts.stash)) {
    progress({ phase: 'stash', message: 'stashing local changes' });
    stash = await git.stashPush(`conntrack-backport ${stamp(now)}`);
    if (stash) {
      stashRef = STASH_PREFIX + backupRef.slice(BACKUP_PREFIX.length);
      await git.updateRef(stashRef, stash);
    }
  }
  const journal: Journal = { version: 1, startedAt: now.toISOString(), pid: process.pid, backupRef, origBranch, origHead, workBranch: branch ?? null, stash, stashRef, resolved, done: [], state: 'running' };
  writeJournal(gitDir, journal);
  if (branch) {
    progress({ phase: 'branch', message: `creating branch ${branch}` });
    try {
      await git.createBranch(branch, origHead);
    } catch (e) {
      journal.workBranch = null;
      const rb = await rollback(git, gitDir, journal, progress, true);
      return { ...base, backupRef, status: 'failed', rolledBack: rb.ok, stash: rb.stash, message: `could not create branch ${branch}: ${gitErrorText(e)}; ${rb.message}` };
    }
  }
  return runSteps(git, gitDir, journal, opts, top);
}

async function runSteps(git: GitWriter, gitDir: string, j: Journal, opts: ExecuteOptions, top: string): Promise<RunResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const steps = j.resolved.steps;
  const result = (r: Partial<RunResult> & { status: RunStatus; message: string }): RunResult => ({ commits: [...j.done], backupRef: j.backupRef, branch: j.workBranch ?? j.origBranch, before: j.resolved.plan.before, ...r });
  for (let i = j.done.length; i < steps.length; i++) {
    const rs = steps[i];
    if (opts.signal?.aborted) {
      const rb = await rollback(git, gitDir, j, progress);
      return result({ status: 'cancelled', rolledBack: rb.ok, stash: rb.stash, commits: rb.ok ? [] : [...j.done], backupRef: rb.ok ? undefined : j.backupRef, message: `cancelled before step ${i + 1}; ${rb.message}` });
    }
    const label = rs.step.kind === 'revert' ? `revert ${rs.step.sha.slice(0, 12)} ${rs.step.subject}` : `cherry-pick ${rs.step.sha.slice(0, 12)} ${rs.step.subject}`;
    progress({ phase: 'step', step: i + 1, total: steps.length, message: label });
    let outcome;
    if (rs.step.kind === 'revert') outcome = await git.revertNoCommit(rs.step.sha);
    else if (rs.patchText !== undefined) outcome = await git.am3(writePatchForAm(gitDir, rs.patchText));
    else outcome = await git.cherryPickNoCommit(rs.step.sha);
    if (!outcome.ok && outcome.conflicted.length) {
      j.state = 'conflict';
      j.conflicted = outcome.conflicted;
      writeJournal(gitDir, j);
      return result({
        status: 'conflict',
        conflict: { step: i + 1, subject: rs.step.subject, files: outcome.conflicted },
        message: `step ${i + 1} (${label}) stopped on a conflict in ${outcome.conflicted.join(', ')}: resolve and stage the files, then continue (with a note on what changed), or abort to return to where you were; ${howBack(j)}`,
      });
    }
    if (!outcome.ok) return failAndRollBack(git, gitDir, j, progress, result, `step ${i + 1} (${label}) failed: ${outcome.message}`);
    try {
      await commitStep(git, j, i, rs.message, opts);
    } catch (e) {
      return failAndRollBack(git, gitDir, j, progress, result, `step ${i + 1} (${label}) could not be committed: ${gitErrorText(e)}`);
    }
    writeJournal(gitDir, j);
    await faultHook(i + 1);
  }
  return finish(git, gitDir, j, opts, top, result);
}

async function commitStep(git: GitWriter, j: Journal, i: number, message: string, opts: ExecuteOptions): Promise<void> {
  const rs = j.resolved.steps[i];
  let sha: string;
  if (rs.patchText !== undefined) sha = await git.commit(message, { amend: true, noVerify: opts.noVerify }); // git am made the commit; give it our message
  else sha = await git.commit(message, { author: rs.author, date: rs.date, noVerify: opts.noVerify });
  j.done.push(sha);
  j.state = 'running';
  delete j.conflicted;
}

async function faultHook(step: number): Promise<void> {
  if (process.env.CONNTRACK_BACKPORT_EXIT_AFTER_STEP === String(step)) process.exit(75);
  if (process.env.CONNTRACK_BACKPORT_PAUSE_AFTER_STEP === String(step)) {
    process.stderr.write(`conntrack-backport: paused after step ${step}\n`);
    await new Promise<void>(() => setInterval(() => undefined, 1 << 30));
  }
}

async function failAndRollBack(git: GitWriter, gitDir: string, j: Journal, progress: (e: ProgressEvent) => void, result: (r: Partial<RunResult> & { status: RunStatus; message: string }) => RunResult, what: string): Promise<RunResult> {
  const rb = await rollback(git, gitDir, j, progress, true);
  return result({ status: 'failed', rolledBack: rb.ok, stash: rb.stash, commits: rb.ok ? [] : [...j.done], message: `${what}; ${rb.message}` });
}

async function finish(git: GitWriter, gitDir: string, j: Journal, opts: ExecuteOptions, top: string, result: (r: Partial<RunResult> & { status: RunStatus; message: string }) => RunResult): Promise<RunResult> {
  const progress = opts.onProgress ?? (() => undefined);
  let stash: RunResult['stash'];
  if (j.stash) {
    progress({ phase: 'restore', message: 'restoring the stashed changes' });
    const r = await git.stashRestore(j.stash);
    stash = { sha: j.stash, restored: r.ok, message: r.ok ? undefined : `your stashed changes did not apply cleanly on the new branch (${r.message}); they are kept in ${j.stashRef} — git stash apply ${j.stash}` };
    if (r.ok && j.stashRef) await git.deleteRef(j.stashRef);
  }
  removeJournal(gitDir);
  const out: RunResult = result({ status: 'done', stash, message: `${j.done.length} commits on ${j.workBranch ?? j.origBranch ?? 'HEAD'}; ${howBack(j)}` });
  if (opts.detectAfter !== false) {
    progress({ phase: 'detect', message: 're-running detection' });
    try {
      const after = await detectPath(top, { history: true });
      out.afterDetection = after;
      out.after = { race1: verdictLabel(after.races.race1), race2: verdictLabel(after.races.race2), race3: verdictLabel(after.races.race3) };
      out.upstreamState = isUpstreamState(after);
      out.message += out.upstreamState ? '; detection now: race 1 and race 2 fixed, upstream variants, no azure variant left' : `; detection now: race 1 ${out.after.race1}, race 2 ${out.after.race2} — not the expected upstream state, review the result`;
    } catch (e) {
      out.message += `; detection after the run failed: ${(e as Error).message}`;
    }
  }
  if (stash?.message) out.message += `; ${stash.message}`;
  return out;
}

export function isUpstreamState(d: DetectionResult): boolean {
  const r1 = d.races.race1;
  const r2 = d.races.race2;
  const azureLeft = d.variantsPresent.some((v) => v.startsWith('azure-'));
  return r1.verdict === 'fixed' && ['ed07d9a021df', 'rework-2020', 'reverse-2024'].includes(r1.variant ?? '') && r2.verdict === 'fixed' && ['4e35c1cb9460', '07998281c268'].includes(r2.variant ?? '') && !azureLeft;
}

interface RollbackOutcome {
  ok: boolean;
  message: string;
  stash?: RunResult['stash'];
}

/** Back to exactly where the user was: HEAD, branch, index, work tree, stash. */
async function rollback(git: GitWriter, gitDir: string, j: Journal, progress: (e: ProgressEvent) => void, keepBackup = false): Promise<RollbackOutcome> {
  progress({ phase: 'rollback', message: 'returning the repository to its state before the run' });
  try {
    await git.abortInProgress();
    await git.resetHard('HEAD');
    if (j.workBranch) {
      const current = (await git.status()).branch;
      await git.checkout(j.origBranch ?? j.origHead);
      if (current === j.workBranch || (await git.branchExists(j.workBranch))) {
        // Only delete the branch this run made, and only if it holds nothing but the run's commits.
        const tip = await git.resolve(`refs/heads/${j.workBranch}`);
        if (tip && (tip === j.origHead || j.done.includes(tip))) await git.deleteBranch(j.workBranch);
      }
    }
    await git.resetHard(j.origHead);
    const st = await git.status();
    if (st.head !== j.origHead || st.branch !== j.origBranch) throw new Error(`HEAD is ${st.head} on ${st.branch ?? 'detached HEAD'}, expected ${j.origHead} on ${j.origBranch ?? 'detached HEAD'}`);
  } catch (e) {
    return { ok: false, message: `rolling back failed (${gitErrorText(e)}): the journal is kept; ${howBack(j)}${j.stash ? `; your stashed changes are at ${j.stashRef}` : ''}` };
  }
  let stash: RunResult['stash'];
  if (j.stash) {
    const r = await git.stashRestore(j.stash);
    stash = { sha: j.stash, restored: r.ok, message: r.ok ? undefined : `restoring your stashed changes failed (${r.message}); they are kept at ${j.stashRef}` };
    if (!r.ok) return { ok: false, stash, message: `the commits were rolled back but ${stash.message}; ${howBack(j)}` };
    if (j.stashRef) await git.deleteRef(j.stashRef);
  }
  removeJournal(gitDir);
  // After a failure the backup ref stays, so the user can check for themselves; an abort the
  // user asked for leaves no trace.
  if (!keepBackup) await git.deleteRef(j.backupRef);
  return { ok: true, stash, message: `rolled back: the repository is as it was (${j.origBranch ?? 'detached HEAD'} at ${j.origHead.slice(0, 12)})${keepBackup ? `; the backup ref ${j.backupRef} is kept` : ''}` };
}

async function withJournal(repo: string, opts: ExecuteOptions, fn: (git: GitWriter, gitDir: string, j: Journal, top: string) => Promise<RunResult>): Promise<RunResult> {
  const top = await root(repo);
  const git = opts.git ?? new CliGitWriter(top);
  const gitDir = await git.gitDir();
  const j = readJournal(gitDir);
  if (!j) return { status: 'refused', message: 'no backport run is pending in this repository', commits: [] };
  return fn(git, gitDir, j, top);
}

/** After the user resolved a conflict (files staged): commit the step as a backport and go on. */
export async function continueRun(repo: string, opts: ContinueOptions = {}): Promise<RunResult> {
  return withJournal(repo, opts, async (git, gitDir, j, top) => {
    const base = { commits: [...j.done], backupRef: j.backupRef, branch: j.workBranch ?? j.origBranch };
    if (j.state !== 'conflict') return { ...base, status: 'refused', message: `the pending run is not stopped on a conflict (state ${j.state}): resume or abort it` };
    const i = j.done.length;
    const rs = j.resolved.steps[i];
    const unmerged = await git.unmerged();
    if (unmerged.length) return { ...base, status: 'conflict', conflict: { step: i + 1, subject: rs.step.subject, files: unmerged }, message: `still unresolved: ${unmerged.join(', ')} — resolve and stage them, or abort; ${howBack(j)}` };
    const st = await git.status();
    if (st.unstaged.length) return { ...base, status: 'conflict', conflict: { step: i + 1, subject: rs.step.subject, files: st.unstaged }, message: `changes not staged in ${st.unstaged.join(', ')}: stage the resolution (git add) before continuing` };
    const markers = await conflictMarkers(git, j.conflicted ?? []);
    if (markers.length) return { ...base, status: 'conflict', conflict: { step: i + 1, subject: rs.step.subject, files: markers }, message: `conflict markers are still in ${markers.join(', ')}` };
    const note = { text: opts.note ?? `resolved a conflict in ${(j.conflicted ?? []).join(', ') || 'the context'} by hand`, name: opts.noteName };
    const message = backportedMessage(rs, j.resolved.plan, j.resolved.signoff, note);
    try {
      if (rs.patchText !== undefined) {
        const r = await git.amContinue();
        if (!r.ok) return { ...base, status: 'conflict', conflict: { step: i + 1, subject: rs.step.subject, files: r.conflicted }, message: `git am --continue failed: ${r.message}` };
      }
      await commitStep(git, j, i, message, opts);
    } catch (e) {
      return { ...base, status: 'conflict', conflict: { step: i + 1, subject: rs.step.subject, files: j.conflicted ?? [] }, message: `the commit failed (${gitErrorText(e)}); fix it and continue again, or abort; ${howBack(j)}` };
    }
    writeJournal(gitDir, j);
    return runSteps(git, gitDir, j, opts, top);
  });
}

async function conflictMarkers(git: GitWriter, files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const text = await git.show(':0', f).catch(() => null);
    if (text && /^(<{7}|>{7})( |$)/m.test(text)) out.push(f);
  }
  return out;
}

/** Abort a pending run (stopped on a conflict, or interrupted): back to exactly the prior state. */
export async function abortRun(repo: string, opts: ExecuteOptions = {}): Promise<RunResult> {
  return withJournal(repo, opts, async (git, gitDir, j) => {
    const rb = await rollback(git, gitDir, j, opts.onProgress ?? (() => undefined));
    return { status: rb.ok ? 'aborted' : 'failed', rolledBack: rb.ok, stash: rb.stash, commits: [], backupRef: rb.ok ? undefined : j.backupRef, branch: j.origBranch, message: rb.message };
  });
}

/** Pick up a run whose process died between (or inside) steps. */
export async function resumeRun(repo: string, opts: ExecuteOptions = {}): Promise<RunResult> {
  return withJournal(repo, opts, async (git, gitDir, j, top) => {
    const base = { commits: [...j.done], backupRef: j.backupRef, branch: j.workBranch ?? j.origBranch };
    if (j.state === 'conflict') return { ...base, status: 'conflict', message: 'the run is stopped on a conflict: continue or abort it' };
    if (j.pid !== process.pid && alive(j.pid)) return { ...base, status: 'refused', message: `process ${j.pid} is still running this backport` };
    const expected = j.done[j.done.length - 1] ?? j.origHead;
    const st = await git.status();
    if ((j.workBranch ?? j.origBranch) !== st.branch) return { ...base, status: 'refused', message: `expected to be on ${j.workBranch ?? j.origBranch}, but HEAD is on ${st.branch ?? 'a detached HEAD'}: abort to roll back; ${howBack(j)}` };
    let head = st.head as string;
    if (head !== expected) {
      // Killed between the commit and the journal write: adopt the commit if it is the step's.
      const next = j.resolved.steps[j.done.length];
      const parent = await git.resolve(`${head}^`);
      const subject = next ? (await git.commitInfo(head)).subject : '';
      if (next && parent === expected && subject === next.message.split('\n')[0]) {
        j.done.push(head);
        writeJournal(gitDir, j);
      } else return { ...base, status: 'refused', message: `HEAD moved since the run stopped (${head.slice(0, 12)}, expected ${expected.slice(0, 12)}): abort to roll back; ${howBack(j)}` };
      head = expected;
    }
    // A step may have been half applied when the process died; its changes are not the user's.
    await git.abortInProgress();
    await git.resetHard('HEAD');
    j.pid = process.pid;
    writeJournal(gitDir, j);
    return runSteps(git, gitDir, j, opts, top);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const backupRefPrefix = BACKUP_PREFIX;
export const resolveRepoRoot = (p: string): Promise<string> => root(path.resolve(p));

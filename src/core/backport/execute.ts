// Executing a backport plan, safely: refuse what git cannot do safely before changing anything
// (dirty tree unless asked to stash, an operation in progress, a shallow clone, a leftover
// index.lock, too little disk space, in-place on a detached HEAD), journal the intent before
// each git action, work on a new branch, commit one step at a time, stop on a conflict for
// continue/abort, roll back by itself on any other failure, and verify at the end that
// detection reads the upstream state (else roll back, unless asked to keep the result).
// Resume and abort first reconcile the journal with what git shows (HEAD, branch, stash list).
//
// Test hooks (used by test/unit/backport-faults.test.ts): when the environment sets
// CONNTRACK_BACKPORT_PAUSE_AFTER_STEP=k, the run prints "conntrack-backport: paused after step k"
// on stderr after committing step k and waits forever, so a test can kill the process there;
// CONNTRACK_BACKPORT_EXIT_AFTER_STEP=k exits at that point instead.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectPath } from '../detect';
import { CliGitWriter, GitWriter, gitErrorText } from '../git/writer';
import { refusesOption } from '../git/reader';
import { verdictLabel } from '../report';
import { RACES } from '../types';
import type { DetectionResult, RaceId } from '../types';
import { Journal, JournalPhase, readJournal, removeJournal, writeJournal } from './journal';
import type { BackportPlan } from './plan';
import { shellQuote } from './quote';
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
  /** Keep the result when detection afterwards does not read the upstream state (default: roll back). */
  keepOnMismatch?: boolean;
  /** Free bytes the run needs in the git dir's file system (default: estimated from the files it touches). */
  requiredFreeBytes?: number;
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
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** How to get back by hand, safe to paste: every name shell-quoted. */
export const howBack = (j: { backupRef: string; origBranch: string | null; origHead: string }): string =>
  `your previous state is kept at ${j.backupRef} (${j.origHead.slice(0, 12)}${j.origBranch ? `, branch ${j.origBranch}` : ', detached HEAD'}); to go back by hand: git checkout ${shellQuote(j.origBranch ?? j.origHead)} && git reset --hard ${shellQuote(j.backupRef)}`;

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

const phaseOf = (j: Journal): JournalPhase => j.phase ?? 'steps';

/** Bytes a run needs: every touched file written a few times (work tree, objects, index) plus the index and slack. */
function estimateNeed(gitDir: string, top: string, paths: string[]): number {
  let bytes = 0;
  for (const p of paths) {
    try {
      bytes += fs.statSync(path.join(top, p)).size;
    } catch {
      /* a file the run adds */
    }
  }
  let index = 0;
  try {
    index = fs.statSync(path.join(gitDir, 'index')).size;
  } catch {
    /* no index yet */
  }
  return 8 * bytes + 2 * index + (4 << 20);
}

function freeBytes(dir: string): number | null {
  try {
    const st = fs.statfsSync(dir);
    return Number(st.bavail) * Number(st.bsize);
  } catch {
    return null;
  }
}

const mib = (n: number): string => `${(n / (1 << 20)).toFixed(1)} MiB`;

/** Apply a plan. Never throws for repository states; the result says what happened. */
export async function applyPlan(repo: string, plan: BackportPlan, opts: ExecuteOptions = {}): Promise<RunResult> {
  const top = await root(repo);
  const git = opts.git ?? new CliGitWriter(top);
  const gitDir = await git.gitDir();
  const progress = opts.onProgress ?? (() => undefined);
  const base: RunResult = { status: 'refused', message: '', commits: [], before: plan.before, branch: plan.options.branch };
  // Refusals change nothing, so they carry no recovery hint: following a "reset --hard" there
  // would wipe the very changes the refusal protected.
  const refuse = (message: string, errorCode?: string): RunResult => ({ ...base, errorCode, message: `${message}; nothing was changed` });

  const pending = readJournal(gitDir);
  if (pending)
    return {
      ...base,
      backupRef: pending.backupRef,
      errorCode: 'pending',
      message: `a backport run is already pending here (${pending.state}, started ${pending.startedAt}): continue, resume or abort it first; ${howBack(pending)}`,
    };
  if (plan.blocked) {
    // A conflicted cherry-pick also blocks detection (markers in the file): name the operation first.
    const ops = await git.inProgress();
    if (ops.length)
      return refuse(
        `a ${ops.join(' and ')} is in progress: finish or abort it first (the plan is blocked too: ${plan.blocked})`,
        'in-progress',
      );
    return { ...base, message: `plan blocked: ${plan.blocked}` };
  }
  if (!plan.steps.length) return { ...base, status: 'nothing-to-do', message: plan.noop ?? 'nothing to do' };

  progress({ phase: 'check', message: 'checking the repository state' });
  const origHead = await git.resolve('HEAD');
  if (!origHead) return refuse('the repository has no commit yet', 'no-commit');
  if (await git.isShallow())
    return refuse(
      'this is a shallow clone: reverting or picking at the history boundary can delete files; fetch the full history first (git fetch --unshallow)',
      'shallow',
    );
  if (fs.existsSync(path.join(gitDir, 'index.lock')))
    return refuse(
      `${path.join(gitDir, 'index.lock')} exists: another git process is running, or one crashed; remove the file once no git process is running`,
      'index-lock',
    );
  const status0 = await git.status();
  const origBranch = status0.branch;
  const ops = await git.inProgress();
  if (ops.length) return refuse(`a ${ops.join(' and ')} is in progress: finish or abort it first`, 'in-progress');
  if (status0.conflicted.length) return refuse(`unresolved conflicts in ${status0.conflicted.join(', ')}`, 'conflicted');
  const dirty = !status0.clean;
  if (dirty && !opts.stash)
    return refuse(
      `the work tree has uncommitted changes (${[...status0.staged, ...status0.unstaged].slice(0, 5).join(', ')}): commit them, or pass the stash option`,
      'dirty',
    );
  const branch = plan.options.branch;
  if (!branch && !origBranch)
    return refuse(
      'working in place on a detached HEAD would leave the commits on no branch: name a branch for them (--branch NAME) or check out a branch first',
      'detached',
    );
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
  if (inTheWay.length && !opts.stash)
    return refuse(
      `untracked files are in the way of the backport: ${inTheWay.join(', ')} (move them away, or pass the stash option)`,
      'untracked',
    );
  const need = opts.requiredFreeBytes ?? estimateNeed(gitDir, top, [...touched]);
  const free = freeBytes(gitDir);
  if (free !== null && free < need)
    return refuse(`too little disk space: ${mib(free)} free where the repository lives, the run needs about ${mib(need)}`, 'disk-space');

  const now = (opts.now ?? (() => new Date()))();
  let backupRef = BACKUP_PREFIX + stamp(now);
  for (let i = 2; await git.resolve(backupRef); i++) backupRef = `${BACKUP_PREFIX}${stamp(now)}-${i}`;
  const needStash = dirty || inTheWay.length > 0;
  const journal: Journal = {
    version: 2,
    phase: 'stash',
    startedAt: now.toISOString(),
    pid: process.pid,
    backupRef,
    origBranch,
    origHead,
    workBranch: branch ?? null,
    stashMessage: needStash ? `conntrack-backport ${backupRef.slice(BACKUP_PREFIX.length)}` : null,
    stash: null,
    stashRef: needStash ? STASH_PREFIX + backupRef.slice(BACKUP_PREFIX.length) : null,
    keepOnMismatch: opts.keepOnMismatch,
    resolved,
    done: [],
    state: 'running',
  };
  // The journal comes first: from here on every instant is recoverable.
  writeJournal(gitDir, journal);
  progress({ phase: 'backup', message: 'recording a backup ref' });
  await git.updateRef(backupRef, origHead);
  await faultHook('prepared');
  return drive(git, gitDir, journal, opts, top);
}

type Result = (r: Partial<RunResult> & { status: RunStatus; message: string }) => RunResult;

function resultOf(j: Journal): Result {
  return (r) => ({
    commits: [...j.done],
    backupRef: j.backupRef,
    branch: j.workBranch ?? j.origBranch,
    before: j.resolved.plan.before,
    ...r,
  });
}

/** Go forward from whatever phase the journal is in. */
async function drive(git: GitWriter, gitDir: string, j: Journal, opts: ExecuteOptions, top: string): Promise<RunResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const result = resultOf(j);
  // Killed after the journal was written but before the backup ref: make it now.
  if ((phaseOf(j) === 'stash' || phaseOf(j) === 'branch') && !(await git.resolve(j.backupRef)))
    await git.updateRef(j.backupRef, j.origHead);
  if (phaseOf(j) === 'stash') {
    if (j.stashMessage && !j.stash) {
      progress({ phase: 'stash', message: 'stashing local changes' });
      j.stash = await git.stashPush(j.stashMessage);
      writeJournal(gitDir, j);
    }
    if (j.stash && j.stashRef) await git.updateRef(j.stashRef, j.stash);
    j.phase = 'branch';
    writeJournal(gitDir, j);
  }
  if (phaseOf(j) === 'branch') {
    if (j.workBranch) {
      progress({ phase: 'branch', message: `creating branch ${j.workBranch}` });
      try {
        const tip = await git.resolve(`refs/heads/${j.workBranch}`);
        if (!tip) await git.createBranch(j.workBranch, j.origHead);
        else if (tip !== j.origHead) throw new Error(`branch ${j.workBranch} appeared at ${tip.slice(0, 12)} while the run was starting`);
        else if ((await git.status()).branch !== j.workBranch) await git.checkout(j.workBranch);
      } catch (e) {
        const rb = await rollback(git, gitDir, j, progress, true);
        return result({
          status: 'failed',
          rolledBack: rb.ok,
          stash: rb.stash,
          commits: [],
          message: `could not create branch ${j.workBranch}: ${gitErrorText(e)}; ${rb.message}`,
        });
      }
    }
    j.phase = 'steps';
    writeJournal(gitDir, j);
  }
  if (phaseOf(j) === 'steps') {
    const stopped = await runSteps(git, gitDir, j, opts);
    if (stopped) return stopped;
    j.phase = 'verify';
    writeJournal(gitDir, j);
  }
  return finish(git, gitDir, j, opts, top);
}

/** Run the remaining steps; a result when the run stops (conflict, failure, cancel), null when all are committed. */
async function runSteps(git: GitWriter, gitDir: string, j: Journal, opts: ExecuteOptions): Promise<RunResult | null> {
  const progress = opts.onProgress ?? (() => undefined);
  const steps = j.resolved.steps;
  const result = resultOf(j);
  for (let i = j.done.length; i < steps.length; i++) {
    const rs = steps[i];
    if (opts.signal?.aborted) {
      const rb = await rollback(git, gitDir, j, progress);
      return result({
        status: 'cancelled',
        rolledBack: rb.ok,
        stash: rb.stash,
        commits: rb.ok ? [] : [...j.done],
        backupRef: rb.ok ? undefined : j.backupRef,
        message: `cancelled before step ${i + 1}; ${rb.message}`,
      });
    }
    const label = stepLabel(rs);
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
    await faultHook(String(i + 1));
  }
  return null;
}

const stepLabel = (rs: ResolvedPlan['steps'][number]): string => `${rs.step.kind} ${rs.step.sha.slice(0, 12)} ${rs.step.subject}`;

async function commitStep(git: GitWriter, j: Journal, i: number, message: string, opts: ExecuteOptions): Promise<void> {
  const rs = j.resolved.steps[i];
  let sha: string;
  if (rs.patchText !== undefined)
    sha = await git.commit(message, { amend: true, noVerify: opts.noVerify }); // git am made the commit; give it our message
  else sha = await git.commit(message, { author: rs.author, date: rs.date, noVerify: opts.noVerify });
  j.done.push(sha);
  j.state = 'running';
  delete j.conflicted;
}

async function faultHook(point: string): Promise<void> {
  if (process.env.CONNTRACK_BACKPORT_EXIT_AFTER_STEP === point) process.exit(75);
  if (process.env.CONNTRACK_BACKPORT_PAUSE_AFTER_STEP === point) {
    process.stderr.write(`conntrack-backport: paused after step ${point}\n`);
    await new Promise<void>(() => setInterval(() => undefined, 1 << 30));
  }
}

async function failAndRollBack(
  git: GitWriter,
  gitDir: string,
  j: Journal,
  progress: (e: ProgressEvent) => void,
  result: Result,
  what: string,
): Promise<RunResult> {
  const rb = await rollback(git, gitDir, j, progress, true);
  return result({
    status: 'failed',
    rolledBack: rb.ok,
    stash: rb.stash,
    commits: rb.ok ? [] : [...j.done],
    message: `${what}; ${rb.message}`,
  });
}

const labels = (d: DetectionResult): Record<RaceId, string> =>
  Object.fromEntries(RACES.map((k) => [k, verdictLabel(d.races[k])])) as Record<RaceId, string>;

/** Verify (phase 'verify'), then give the stash back (phase 'restore') and close the journal. */
async function finish(git: GitWriter, gitDir: string, j: Journal, opts: ExecuteOptions, top: string): Promise<RunResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const result = resultOf(j);
  let afterDetection: DetectionResult | undefined;
  let mismatch: string | undefined;
  if (phaseOf(j) === 'verify') {
    // The work tree equals HEAD here (the user's changes are still stashed): this reads the commits.
    progress({ phase: 'detect', message: 're-running detection' });
    try {
      afterDetection = await detectPath(top, { history: true });
      j.after = labels(afterDetection);
      const why = upstreamStateProblem(afterDetection, j.resolved.plan);
      if (why) mismatch = why;
    } catch (e) {
      mismatch = `detection after the run failed: ${(e as Error).message}`;
    }
    if (mismatch && !j.keepOnMismatch) {
      const rb = await rollback(git, gitDir, j, progress, true);
      return result({
        status: 'failed',
        errorCode: 'mismatch',
        rolledBack: rb.ok,
        stash: rb.stash,
        commits: rb.ok ? [] : [...j.done],
        after: j.after as Record<RaceId, string> | undefined,
        afterDetection,
        upstreamState: false,
        message: `verification failed: ${mismatch}; ${rb.message}`,
      });
    }
    j.phase = 'restore';
    writeJournal(gitDir, j);
  }
  let stash: RunResult['stash'];
  if (j.stash) {
    progress({ phase: 'restore', message: 'restoring the stashed changes' });
    if ((await git.stashList()).includes(j.stash)) {
      const r = await git.stashRestore(j.stash);
      stash = {
        sha: j.stash,
        restored: r.ok,
        message: r.ok
          ? undefined
          : `your stashed changes did not apply cleanly on the new branch (${r.message}); they are kept in ${j.stashRef} — git stash apply ${j.stash}`,
      };
      if (r.ok && j.stashRef) await git.deleteRef(j.stashRef);
    } else {
      // Killed after the pop, before the journal was closed: the changes are back already.
      stash = { sha: j.stash, restored: true };
      if (j.stashRef) await git.deleteRef(j.stashRef);
    }
  }
  removeJournal(gitDir);
  const after = j.after as Record<RaceId, string> | undefined;
  const out: RunResult = result({
    status: mismatch ? 'failed' : 'done',
    errorCode: mismatch ? 'mismatch' : undefined,
    stash,
    after,
    afterDetection,
    upstreamState: !mismatch,
    message: `${j.done.length} commits on ${j.workBranch ?? j.origBranch ?? 'HEAD'}; ${howBack(j)}`,
  });
  out.message += mismatch
    ? `; verification failed: ${mismatch} — the result is kept as asked (keep on mismatch); review it, or go back with the commands above`
    : '; detection now: race 1 and race 2 fixed, upstream variants, no azure variant left';
  if (stash?.message) out.message += `; ${stash.message}`;
  return out;
}

/** Why a detection result is not the state a finished backport must reach (null when it is). */
export function upstreamStateProblem(d: DetectionResult, plan?: Pick<BackportPlan, 'race1Open'>): string | null {
  if (!d.kernelFile) return `nf_conntrack_core.c is not recognised any more (${d.reason ?? 'unknown reason'})`;
  const r1 = d.races.race1;
  const r2 = d.races.race2;
  const problems: string[] = [];
  if (!plan?.race1Open && !(r1.verdict === 'fixed' && ['ed07d9a021df', 'rework-2020', 'reverse-2024'].includes(r1.variant ?? '')))
    problems.push(`race 1 is ${verdictLabel(r1)} (expected ed07d9a021df)`);
  if (!(r2.verdict === 'fixed' && ['4e35c1cb9460', '07998281c268'].includes(r2.variant ?? '')))
    problems.push(`race 2 is ${verdictLabel(r2)} (expected 4e35c1cb9460)`);
  const azure = d.variantsPresent.filter((v) => v.startsWith('azure-'));
  if (azure.length) problems.push(`${azure.join(' and ')} still present`);
  return problems.length ? `after the last step ${problems.join('; ')}` : null;
}

export function isUpstreamState(d: DetectionResult, plan?: Pick<BackportPlan, 'race1Open'>): boolean {
  return upstreamStateProblem(d, plan) === null;
}

interface RollbackOutcome {
  ok: boolean;
  message: string;
  stash?: RunResult['stash'];
}

/**
 * Make the journal match what git shows after a kill at any instant: adopt the run's stash
 * entry when the stash push happened but its id was not written; put back into the stash the
 * changes a finished pop had already restored (so that a rollback can reset); adopt a step's
 * commit made just before the kill (giving a `git am` commit the run's message).
 */
async function reconcile(git: GitWriter, gitDir: string, j: Journal, forAbort: boolean): Promise<void> {
  if (j.stashMessage) {
    const entries = await git.stashEntries();
    const ours = entries.find((e) => e.subject === j.stashMessage || e.subject.endsWith(`: ${j.stashMessage}`));
    if (ours && ours.sha !== j.stash) {
      j.stash = ours.sha;
      writeJournal(gitDir, j);
    } else if (!ours && j.stash && forAbort && phaseOf(j) !== 'stash') {
      // The pop already happened (end of the run, or an earlier abort): the changes are in the
      // work tree on top of some commit. Stash them again under the same message.
      const again = await git.stashPush(j.stashMessage);
      if (again) {
        j.stash = again;
        writeJournal(gitDir, j);
      }
    }
    if (j.stash && j.stashRef && (await git.resolve(j.stashRef)) !== j.stash) await git.updateRef(j.stashRef, j.stash);
  }
  if (phaseOf(j) === 'steps' && j.state === 'running') {
    const expected = j.done[j.done.length - 1] ?? j.origHead;
    const head = await git.resolve('HEAD');
    const next = j.resolved.steps[j.done.length];
    const onRunBranch = (await git.status()).branch === (j.workBranch ?? j.origBranch);
    if (next && head && head !== expected && onRunBranch && (await git.resolve(`${head}^`)) === expected) {
      const msg = normalizeMessage(await git.commitMessage(head));
      if (msg === normalizeMessage(next.message)) j.done.push(head);
      else if (next.patchText !== undefined && msg.split('\n')[0] === next.message.split('\n')[0].trim()) {
        // git am committed with the patch's own message; the run's message (BugLink, provenance, sign-off) replaces it.
        j.done.push(await git.commit(next.message, { amend: true, noVerify: true }));
      }
      writeJournal(gitDir, j);
    }
  }
}

const normalizeMessage = (m: string): string =>
  m
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** Back to exactly where the user was: HEAD, branch, index, work tree, stash. */
async function rollback(
  git: GitWriter,
  gitDir: string,
  j: Journal,
  progress: (e: ProgressEvent) => void,
  keepBackup = false,
): Promise<RollbackOutcome> {
  progress({ phase: 'rollback', message: 'returning the repository to its state before the run' });
  // Killed before the stash push: the user's changes are still in the work tree and nothing
  // else changed, so nothing may be reset.
  const untouched = phaseOf(j) === 'stash' && !j.stash && !!j.stashMessage;
  j.phase = 'abort';
  writeJournal(gitDir, j);
  try {
    if (!untouched) {
      await git.abortInProgress();
      await git.resetHard('HEAD');
      if (j.workBranch) {
        const current = (await git.status()).branch;
        if (current !== j.origBranch || !j.origBranch) await git.checkout(j.origBranch ?? j.origHead);
        const tip = await git.resolve(`refs/heads/${j.workBranch}`);
        // Only delete the branch this run made, and only if it holds nothing but the run's commits.
        if (tip && (tip === j.origHead || j.done.includes(tip) || (current === j.workBranch && (await runCommitOnTop(git, j, tip)))))
          await git.deleteBranch(j.workBranch);
      }
      await git.resetHard(j.origHead);
      const st = await git.status();
      if (st.head !== j.origHead || st.branch !== j.origBranch)
        throw new Error(
          `HEAD is ${st.head} on ${st.branch ?? 'detached HEAD'}, expected ${j.origHead} on ${j.origBranch ?? 'detached HEAD'}`,
        );
    }
  } catch (e) {
    return {
      ok: false,
      message: `rolling back failed (${gitErrorText(e)}): the journal is kept; ${howBack(j)}${j.stash ? `; your stashed changes are at ${j.stashRef}` : ''}`,
    };
  }
  let stash: RunResult['stash'];
  if (j.stash) {
    const listed = (await git.stashList()).includes(j.stash);
    const r = listed ? await git.stashRestore(j.stash) : { ok: true, conflicted: [], message: undefined };
    stash = {
      sha: j.stash,
      restored: r.ok,
      message: r.ok ? undefined : `restoring your stashed changes failed (${r.message}); they are kept at ${j.stashRef}`,
    };
    if (!r.ok) return { ok: false, stash, message: `the commits were rolled back but ${stash.message}; ${howBack(j)}` };
  }
  if (j.stashRef) await git.deleteRef(j.stashRef);
  // After a failure the backup ref stays, so the user can check for themselves; an abort the
  // user asked for leaves no trace.
  if (!keepBackup) await git.deleteRef(j.backupRef);
  removeJournal(gitDir);
  return {
    ok: true,
    stash,
    message: `rolled back: the repository is as it was (${j.origBranch ?? 'detached HEAD'} at ${j.origHead.slice(0, 12)})${keepBackup ? `; the backup ref ${j.backupRef} is kept` : ''}`,
  };
}

/** A commit the run made (its parent is the last journaled commit) that the journal did not record yet. */
async function runCommitOnTop(git: GitWriter, j: Journal, tip: string): Promise<boolean> {
  const expected = j.done[j.done.length - 1] ?? j.origHead;
  const next = j.resolved.steps[j.done.length];
  if (!next || (await git.resolve(`${tip}^`)) !== expected) return false;
  return (await git.commitMessage(tip)).split('\n')[0].trim() === next.message.split('\n')[0].trim();
}

async function withJournal(
  repo: string,
  opts: ExecuteOptions,
  fn: (git: GitWriter, gitDir: string, j: Journal, top: string) => Promise<RunResult>,
): Promise<RunResult> {
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
    if (j.state !== 'conflict')
      return { ...base, status: 'refused', message: `the pending run is not stopped on a conflict (state ${j.state}): resume or abort it` };
    const i = j.done.length;
    const rs = j.resolved.steps[i];
    const expected = j.done[i - 1] ?? j.origHead;
    const head = await git.resolve('HEAD');
    // Killed after `git am --continue` committed, before our message was written: amend only.
    const amCommitted =
      rs.patchText !== undefined &&
      head !== expected &&
      !(await git.inProgress()).includes('am') &&
      head !== null &&
      (await git.resolve(`${head}^`)) === expected;
    const unmerged = await git.unmerged();
    if (unmerged.length)
      return {
        ...base,
        status: 'conflict',
        conflict: { step: i + 1, subject: rs.step.subject, files: unmerged },
        message: `still unresolved: ${unmerged.join(', ')} — resolve and stage them, or abort; ${howBack(j)}`,
      };
    const st = await git.status();
    if (st.unstaged.length)
      return {
        ...base,
        status: 'conflict',
        conflict: { step: i + 1, subject: rs.step.subject, files: st.unstaged },
        message: `changes not staged in ${st.unstaged.join(', ')}: stage the resolution (git add) before continuing`,
      };
    const markers = await conflictMarkers(git, j.conflicted ?? []);
    if (markers.length)
      return {
        ...base,
        status: 'conflict',
        conflict: { step: i + 1, subject: rs.step.subject, files: markers },
        message: `conflict markers are still in ${markers.join(', ')}`,
      };
    if (opts.keepOnMismatch) j.keepOnMismatch = true;
    const note = {
      text: opts.note ?? `resolved a conflict in ${(j.conflicted ?? []).join(', ') || 'the context'} by hand`,
      name: opts.noteName,
    };
    const message = backportedMessage(rs, j.resolved.plan, j.resolved.signoff, note);
    try {
      if (rs.patchText !== undefined && !amCommitted) {
        const r = await git.amContinue();
        if (!r.ok)
          return {
            ...base,
            status: 'conflict',
            conflict: { step: i + 1, subject: rs.step.subject, files: r.conflicted },
            message: `git am --continue failed: ${r.message}`,
          };
      }
      await commitStep(git, j, i, message, opts);
    } catch (e) {
      return {
        ...base,
        status: 'conflict',
        conflict: { step: i + 1, subject: rs.step.subject, files: j.conflicted ?? [] },
        message: `the commit failed (${gitErrorText(e)}); fix it and continue again, or abort; ${howBack(j)}`,
      };
    }
    // The step's message now carries the note: a resume after a kill must recognise it.
    j.resolved.steps[i] = { ...rs, message };
    writeJournal(gitDir, j);
    j.pid = process.pid;
    return drive(git, gitDir, j, opts, top);
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

/** Abort a pending run (stopped on a conflict, or interrupted at any instant): back to exactly the prior state. */
export async function abortRun(repo: string, opts: ExecuteOptions = {}): Promise<RunResult> {
  return withJournal(repo, opts, async (git, gitDir, j) => {
    if (j.pid !== process.pid && alive(j.pid) && phaseOf(j) !== 'abort' && j.state !== 'conflict')
      return {
        status: 'refused',
        commits: [...j.done],
        backupRef: j.backupRef,
        message: `process ${j.pid} is still running this backport: stop it first`,
      };
    await reconcile(git, gitDir, j, true);
    const rb = await rollback(git, gitDir, j, opts.onProgress ?? (() => undefined));
    return {
      status: rb.ok ? 'aborted' : 'failed',
      rolledBack: rb.ok,
      stash: rb.stash,
      commits: [],
      backupRef: rb.ok ? undefined : j.backupRef,
      branch: j.origBranch,
      message: rb.message,
    };
  });
}

/** Pick up a run whose process died at any instant (between or inside steps, before or after the stash). */
export async function resumeRun(repo: string, opts: ExecuteOptions = {}): Promise<RunResult> {
  return withJournal(repo, opts, async (git, gitDir, j, top) => {
    const base = { commits: [...j.done], backupRef: j.backupRef, branch: j.workBranch ?? j.origBranch };
    if (j.state === 'conflict') return { ...base, status: 'conflict', message: 'the run is stopped on a conflict: continue or abort it' };
    if (phaseOf(j) === 'abort')
      return { ...base, status: 'refused', message: 'a rollback of this run was under way when it stopped: abort again to finish it' };
    if (j.pid !== process.pid && alive(j.pid))
      return { ...base, status: 'refused', message: `process ${j.pid} is still running this backport` };
    if (opts.keepOnMismatch) j.keepOnMismatch = true;
    await reconcile(git, gitDir, j, false);
    if (phaseOf(j) === 'steps') {
      const expected = j.done[j.done.length - 1] ?? j.origHead;
      const st = await git.status();
      if ((j.workBranch ?? j.origBranch) !== st.branch)
        return {
          ...base,
          status: 'refused',
          message: `expected to be on ${j.workBranch ?? j.origBranch}, but HEAD is on ${st.branch ?? 'a detached HEAD'}: abort to roll back; ${howBack(j)}`,
        };
      if (st.head !== expected)
        return {
          ...base,
          status: 'refused',
          message: `HEAD moved since the run stopped (${(st.head ?? '').slice(0, 12)}, expected ${expected.slice(0, 12)}): abort to roll back; ${howBack(j)}`,
        };
      // A step may have been half applied when the process died; its changes are not the user's
      // (those are in the run's stash).
      await git.abortInProgress();
      await git.resetHard('HEAD');
    }
    j.pid = process.pid;
    writeJournal(gitDir, j);
    return drive(git, gitDir, j, opts, top);
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

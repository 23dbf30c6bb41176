// Turning a plan into exactly what will be committed: fetch the upstream commits (by id, from
// the named remote) or read them from patch files, then write every message. Fetching adds
// objects only; no ref, index or file of the user changes here.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GitWriter } from '../git/writer';
import { gitErrorText } from '../git/writer';
import { parseMessage, splitMessages } from '../patch/mbox';
import { Identity, MessageContext, parseIdentity, pickMessage, revertMessage } from './messages';
import type { BackportPlan, PlanStep } from './plan';

export type BackportErrorCode = 'missing-remote' | 'missing-commit' | 'bad-patch' | 'no-identity';

export class BackportError extends Error {
  constructor(
    readonly code: BackportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ResolvedStep {
  step: PlanStep;
  /** The full commit message that will be written. */
  message: string;
  /** For picks from a remote: the upstream author and date, kept on the new commit. */
  author?: string;
  date?: string;
  /** Raw text of the single patch message, for `git am -3`. */
  patchText?: string;
  /** Upstream message parts, for rebuilding the message after a conflict. */
  upstream?: { subject: string; body: string };
  /** Files the step changes (from the commit or the patch). */
  paths: string[];
}

export interface ResolvedPlan {
  plan: BackportPlan;
  steps: ResolvedStep[];
  signoff: Identity;
}

export async function signoffOf(plan: BackportPlan, git: GitWriter): Promise<Identity> {
  if (plan.options.signoff) return plan.options.signoff;
  const name = await git.configGet('user.name');
  const email = await git.configGet('user.email');
  const id = name && email ? parseIdentity(`${name} <${email}>`) : null;
  if (!id) throw new BackportError('no-identity', 'no sign-off identity: pass one ("Name <mail>") or set git user.name and user.email');
  return id;
}

export function messageContext(plan: BackportPlan, signoff: Identity): MessageContext {
  return { style: plan.options.style, bug: plan.options.bug, signoff };
}

export function revertReason(step: PlanStep & { kind: 'revert' }, plan: BackportPlan): string {
  const pick = plan.steps.find(
    (s) =>
      s.kind === 'cherry-pick' &&
      ((step.variant === 'azure-937963' && s.variant === 'ed07d9a021df') ||
        (step.variant === 'azure-952939' && s.variant === '4e35c1cb9460')),
  );
  const replacement = pick
    ? `the upstream commit ${pick.sha.slice(0, 12)} ("${pick.subject}"), picked next`
    : 'the upstream fix already in the tree';
  return `This is the pre-upstream version of the fix (${step.variant.replace('azure-', 'patchwork ')}). It is replaced by ${replacement}, so that the tree carries the code that upstream and stable maintain.`;
}

/**
 * Reverts must undo the newest commit first. History already orders the commits it found; a
 * commit the user named has no place there, so when one is present the reverts are ordered by
 * ancestry instead (a few merge-base calls).
 */
export async function revertsNewestFirst(steps: PlanStep[], git: GitWriter): Promise<PlanStep[]> {
  const reverts = steps.filter((s): s is PlanStep & { kind: 'revert' } => s.kind === 'revert');
  if (!reverts.some((s) => s.foundBy === 'user')) return steps;
  const ordered: (PlanStep & { kind: 'revert' })[] = [];
  for (const r of reverts) {
    let i = 0;
    // Insert before the first commit that r descends from (r is newer than it).
    while (i < ordered.length && !(await git.isAncestor(ordered[i].sha, r.sha))) i++;
    ordered.splice(i, 0, r);
  }
  return [...ordered, ...steps.filter((s) => s.kind !== 'revert')];
}

/** Fetch what is missing and write the messages. `fetch: false` only uses objects already present. */
export async function resolvePlan(plan: BackportPlan, git: GitWriter, opts: { fetch?: boolean } = {}): Promise<ResolvedPlan> {
  const signoff = await signoffOf(plan, git);
  const ctx = messageContext(plan, signoff);
  const steps: ResolvedStep[] = [];
  for (const step of await revertsNewestFirst(plan.steps, git)) {
    if (step.kind === 'revert') {
      if (!(await git.hasCommit(step.sha)))
        throw new BackportError('missing-commit', `commit ${step.sha} to revert is not in the repository`);
      // A commit the user named carries no subject yet, and maybe a short id: take both from git.
      const named = step.foundBy === 'user' ? await git.commitInfo(step.sha) : undefined;
      const s2 = named ? { ...step, sha: named.sha, subject: named.subject } : step;
      steps.push({
        step: s2,
        message: revertMessage({ subject: s2.subject, sha: s2.sha, reason: revertReason(s2, plan) }, ctx),
        paths: await git.changedPaths(s2.sha),
      });
      continue;
    }
    if ('patchFile' in step.source) {
      const { patchFile, index } = step.source;
      let raw: string;
      try {
        raw = splitMessages(fs.readFileSync(patchFile, 'utf8'))[index];
      } catch (e) {
        throw new BackportError('bad-patch', `cannot read ${patchFile}: ${(e as Error).message}`);
      }
      const m = raw ? parseMessage(raw) : undefined;
      if (!m || !m.files.length) throw new BackportError('bad-patch', `${patchFile}: message ${index + 1} has no diff`);
      const paths = m.files
        .map((f) => (f.newFileName && f.newFileName !== '/dev/null' ? f.newFileName : (f.oldFileName ?? '')).replace(/^[ab]\//, ''))
        .filter(Boolean);
      const body = stripPatchNoise(m.body);
      steps.push({
        step,
        message: pickMessage({ subject: step.subject, body, sha: step.sha }, ctx),
        patchText: raw,
        upstream: { subject: step.subject, body },
        paths,
      });
      continue;
    }
    const remote = step.source.remote;
    if (!(await git.hasCommit(step.sha))) {
      if (!remote)
        throw new BackportError(
          'missing-commit',
          `upstream commit ${step.sha} is not in the repository and no remote was named to fetch it from`,
        );
      if (!(await git.remoteUrl(remote)))
        throw new BackportError('missing-remote', `no remote named '${remote}' in this repository (git remote add ${remote} <url>)`);
      if (opts.fetch === false)
        throw new BackportError('missing-commit', `upstream commit ${step.sha} is not fetched yet from '${remote}'`);
      try {
        await git.fetchCommit(remote, step.sha);
      } catch (e) {
        throw new BackportError('missing-commit', `could not fetch ${step.sha} from '${remote}': ${gitErrorText(e)}`);
      }
      if (!(await git.hasCommit(step.sha))) throw new BackportError('missing-commit', `remote '${remote}' did not provide ${step.sha}`);
    }
    const info = await git.commitInfo(step.sha);
    steps.push({
      step,
      message: pickMessage({ subject: info.subject, body: info.body, sha: info.sha }, ctx),
      author: `${info.authorName} <${info.authorEmail}>`,
      date: info.authorDateIso,
      upstream: { subject: info.subject, body: info.body },
      paths: await git.changedPaths(step.sha),
    });
  }
  return { plan, steps, signoff };
}

/** The message text of a patch mail without mail headers that leaked into the body. */
function stripPatchNoise(body: string): string {
  return body
    .split('\n')
    .filter((l) => !/^(From|Date|Subject|Message-Id|In-Reply-To|References):\s/i.test(l))
    .join('\n')
    .trim();
}

/** Write one patch message where `git am` can read it, inside the git dir (not the work tree). */
export function writePatchForAm(gitDir: string, text: string): string {
  const dir = path.join(gitDir, 'conntrack-backport');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'step.patch');
  fs.writeFileSync(
    file,
    text.startsWith('From ') ? text : `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n${text}`,
  );
  return file;
}

/** The message of a pick that needed a hand-resolved conflict. */
export function backportedMessage(rs: ResolvedStep, plan: BackportPlan, signoff: Identity, note: { text: string; name?: string }): string {
  const ctx = messageContext(plan, signoff);
  if (rs.step.kind === 'revert')
    return revertMessage({ subject: rs.step.subject, sha: rs.step.sha, reason: revertReason(rs.step, plan), note }, ctx);
  const up = rs.upstream ?? { subject: rs.step.subject, body: '' };
  return pickMessage({ subject: up.subject, body: up.body, sha: rs.step.sha, backported: note }, ctx);
}

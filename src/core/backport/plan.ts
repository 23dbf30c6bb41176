// The backport plan as plain data (the gitlens rebase-editor idea): from a detection result and
// the history report, which commits to revert and which upstream commits to pick, from where,
// in which order, or why there is nothing to do. No git is run here; resolve.ts fills in what
// needs the repository (upstream messages, fetched objects).

import { entry } from '../catalogue';
import { bareSubject } from '../history/analyze';
import type { PatchMessage } from '../patch/mbox';
import { refusesOption } from '../git/reader';
import { RACES } from '../types';
import type { DetectionResult, HistoryCommitEvidence, HistoryReport, RaceId, VariantId } from '../types';
import { verdictLabel } from '../report';
import { isOneLineIdentity, Identity, MessageStyle } from './messages';

export type UpstreamId = 'ed07d9a021df' | '4e35c1cb9460';
/** Pick order: race 1 then race 2, as upstream merged them (4e35c1cb9460's context follows ed07d9a021df). */
export const UPSTREAM_ORDER: readonly UpstreamId[] = ['ed07d9a021df', '4e35c1cb9460'];

export type StepSource = { remote?: string } | { patchFile: string; index: number };

export interface RevertStep {
  kind: 'revert';
  sha: string;
  subject: string;
  variant: VariantId;
  /** How the commit was found: in history (provenance, subject, patch-id), or named by the user. */
  foundBy: HistoryCommitEvidence['matchedBy'] | 'user';
  why: string;
}

export interface PickStep {
  kind: 'cherry-pick';
  /** The commit id that is picked (the upstream id, or the caller's override for a mirror). */
  sha: string;
  /** Catalogue id of the upstream fix. */
  variant: UpstreamId;
  subject: string;
  source: StepSource;
  why: string;
}

export type PlanStep = RevertStep | PickStep;

export interface PlanOptions {
  remote?: string;
  /** Commit ids to use instead of the upstream ones (mirrors, tests). */
  commits?: Partial<Record<UpstreamId, string>>;
  /** Parsed patch/mbox files; a message whose subject matches an upstream fix replaces the remote. */
  patches?: { file: string; messages: PatchMessage[] }[];
  bug?: number | string;
  signoff?: Identity;
  series?: string;
  /** Branch to create (default `conntrack-backport/<series or 'sru'>`); null = work on the current branch. */
  branch?: string | null;
  style?: MessageStyle;
  /** ed07d9a021df cannot apply (4.9-shaped resolver); see race1Backportable(). */
  race1Backportable?: boolean;
  /**
   * Commits the user names as carrying an azure posting, for trees whose history does not show
   * them (squashed imports, rewritten subjects). Used only when history finds none; their
   * subjects are read from git when the plan is resolved.
   */
  reverts?: Partial<Record<'azure-937963' | 'azure-952939', string[]>>;
  /**
   * Source-layer detection of the tree as the planned reverts leave it (predictAfterReverts),
   * or why it could not be made. Without it, every reverted fix is picked again.
   */
  afterReverts?: { detection?: DetectionResult; problem?: string };
}

export interface BackportPlan {
  file: string;
  steps: PlanStep[];
  /** Set when there is nothing to do, with the reason. */
  noop?: string;
  /** Set when the plan cannot be made safely without a human; steps is then empty. */
  blocked?: string;
  /** Race 1 is left open on purpose (4.9-shaped resolver): the check after the run does not expect it fixed. */
  race1Open?: boolean;
  /** Facts the reader must see (e.g. "race 1 stays open on 4.9"). */
  notes: string[];
  /** Missing inputs that do not block (no bug number, no sign-off). */
  warnings: string[];
  options: { remote?: string; bug?: number | string; signoff?: Identity; series?: string; branch: string | null; style: MessageStyle };
  /** Verdicts the plan was built from, one line per race. */
  before: Record<RaceId, string>;
}

const RACE_OF: Record<UpstreamId, RaceId> = { ed07d9a021df: 'race1', '4e35c1cb9460': 'race2' };
const AZURE_OF: Record<UpstreamId, VariantId> = { ed07d9a021df: 'azure-937963', '4e35c1cb9460': 'azure-952939' };

/** 4.9's resolver handles skb->nfct itself; ed07d9a021df was never backported there. */
export function race1Backportable(coreText: string): boolean {
  const m = /\bnf_ct_resolve_clash\s*\([^)]*\)\s*\{([\s\S]*?)\n\}/.exec(coreText);
  return !(m && /skb->nfct\b/.test(m[1]));
}

/** Commits of `variant` that history shows applied and not reverted afterwards, newest first. */
export function commitsToRevert(h: HistoryReport | undefined, variant: VariantId): HistoryCommitEvidence[] {
  if (!h?.available) return [];
  const reverted = new Set(h.commits.filter((c) => c.reverts && c.upstream).map((c) => c.upstream as string));
  const isReverted = (sha: string): boolean => [...reverted].some((r) => sha.startsWith(r) || r.startsWith(sha));
  return h.commits.filter((c) => c.variant === variant && !c.reverts && !isReverted(c.sha));
}

export function defaultBranch(o: PlanOptions): string {
  return `conntrack-backport/${(o.series ?? 'sru').toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}`;
}

export function buildPlan(
  detection: DetectionResult,
  history: HistoryReport | undefined = detection.history,
  options: PlanOptions = {},
): BackportPlan {
  for (const name of [options.remote, options.branch, ...Object.values(options.commits ?? {})]) if (name) refusesOption(name);
  for (const [k, sha] of Object.entries(options.commits ?? {}))
    if (sha && !/^[0-9a-f]{7,40}$/i.test(sha)) throw new Error(`commit override for ${k} is not a commit id: ${sha}`);
  for (const [k, shas] of Object.entries(options.reverts ?? {}))
    for (const sha of shas ?? [])
      if (!/^[0-9a-f]{7,40}$/i.test(sha)) throw new Error(`commit to revert for ${k} is not a commit id: ${sha}`);
  if (options.signoff && !isOneLineIdentity(options.signoff))
    throw new Error(
      `sign-off must be one line "Name <address>", got ${JSON.stringify(`${options.signoff.name} <${options.signoff.email}>`)}`,
    );
  const style = options.style ?? 'sru';
  const plan: BackportPlan = {
    file: detection.file,
    steps: [],
    notes: [],
    warnings: [],
    options: {
      remote: options.remote,
      bug: options.bug,
      signoff: options.signoff,
      series: options.series,
      style,
      branch: options.branch === undefined ? defaultBranch(options) : options.branch,
    },
    before: Object.fromEntries(RACES.map((k) => [k, verdictLabel(detection.races[k])])) as Record<RaceId, string>,
  };
  if (style === 'sru' && options.bug === undefined) plan.warnings.push('no bug number: SRU messages need a BugLink (pass a Launchpad bug)');
  if (!options.signoff) plan.warnings.push('no sign-off identity: the git user.name/user.email of the repository will be used');

  if (!detection.kernelFile) return { ...plan, blocked: `not an nf_conntrack_core.c: ${detection.reason ?? 'unknown reason'}` };
  if (
    detection.rework2020.present === true &&
    detection.races.race2.verdict === 'fixed' &&
    detection.races.race2.variant !== 'azure-952939'
  ) {
    return {
      ...plan,
      noop: 'superseded: nothing to do — the tree carries the 2020 clash-resolution rework (6a757c07e51f series), which contains the race-1 fix, and race 2 is fixed upstream-style',
    };
  }

  const steps: PlanStep[] = [];
  const reverts: RevertStep[] = [];
  const picks: UpstreamId[] = [];
  // Pass 1: what must be reverted, per race (from history, or named by the user).
  const revertedRaces = new Set<RaceId>();
  for (const up of UPSTREAM_ORDER) {
    const race = RACE_OF[up];
    const v = detection.races[race];
    const azure = AZURE_OF[up];
    const label = `race ${race.slice(-1)}`;
    if (v.verdict === 'partial' || v.verdict === 'conditional' || v.verdict === 'unknown') {
      return { ...plan, blocked: `${label} is ${verdictLabel(v)}: ${v.explain}. Resolve it by hand before planning a backport.` };
    }
    if (race === 'race1' && (v.variant === 'rework-2020' || v.variant === 'reverse-2024')) continue;
    const azureCommits = commitsToRevert(history, azure);
    const named = azureCommits.length ? [] : (options.reverts?.[azure as 'azure-937963' | 'azure-952939'] ?? []);
    for (const c of azureCommits)
      reverts.push({
        kind: 'revert',
        sha: c.sha,
        subject: c.subject,
        variant: azure,
        foundBy: c.matchedBy,
        why: `pre-upstream ${azure} (found by ${c.matchedBy}) must go before ${up} is picked`,
      });
    // The user's word, checked when the plan is resolved (the commit must exist); the subject comes from git then.
    for (const sha of named)
      reverts.push({
        kind: 'revert',
        sha,
        subject: '',
        variant: azure,
        foundBy: 'user',
        why: `named by the user as ${azure}; must go before ${up} is picked`,
      });
    if (azureCommits.length || named.length) {
      revertedRaces.add(race);
      const upstreamShape = v.verdict === 'fixed' && (v.variant === up || (up === '4e35c1cb9460' && v.variant === '07998281c268'));
      if (upstreamShape) {
        const shas = (azureCommits.length ? azureCommits.map((c) => c.sha) : named).map((x) => x.slice(0, 12)).join(', ');
        plan.notes.push(
          `source and history disagree about ${label}: the code reads as ${v.variant}, but history shows ${azure} applied (${shas}); taking the safe side: revert it, then pick ${up} unless its code survives the reverts`,
        );
      }
      continue;
    }
    if (v.verdict === 'fixed' && v.variant === azure) {
      return {
        ...plan,
        blocked: `${label}: ${v.explain}. No commit carrying ${azure} was found in history to revert (history ${history?.available ? 'has no matching commit' : 'is not available'}); name it to revert (--revert ${azure}=SHA), revert it by hand, or run on a checkout with its history.`,
      };
    }
  }
  // Pass 2: what to pick, judged on the tree as the reverts will leave it. A fix counts as
  // present only if its code survives the reverts.
  const after = reverts.length ? options.afterReverts : undefined;
  if (reverts.length && !after?.detection) {
    plan.notes.push(
      `the tree after the reverts could not be predicted (${after?.problem ?? 'no prediction was made'}): every reverted fix is picked again (safe side)`,
    );
  }
  if (after?.detection && !after.detection.kernelFile)
    return {
      ...plan,
      blocked: `after the planned reverts nf_conntrack_core.c would not be a kernel file any more (${after.detection.reason ?? 'unknown reason'})`,
    };
  for (const up of UPSTREAM_ORDER) {
    const race = RACE_OF[up];
    const azure = AZURE_OF[up];
    const label = `race ${race.slice(-1)}`;
    const pre = detection.races[race];
    if (race === 'race1' && (pre.variant === 'rework-2020' || pre.variant === 'reverse-2024')) continue;
    const known = after?.detection ?? (reverts.length ? undefined : detection);
    const v = known?.races[race];
    if (!v) {
      // No prediction: a reverted race is picked; an untouched one keeps its pre-revert verdict.
      if (revertedRaces.has(race)) picks.push(up);
      else if (pre.verdict === 'missing' || !(pre.variant === up || (up === '4e35c1cb9460' && pre.variant === '07998281c268')))
        picks.push(up);
      continue;
    }
    if (after?.detection) {
      if (v.verdict === 'partial' || v.verdict === 'conditional' || v.verdict === 'unknown') {
        return {
          ...plan,
          blocked: `after the planned reverts ${label} would be ${verdictLabel(v)}: ${v.explain}. Resolve it by hand before planning a backport.`,
        };
      }
      if (
        v.verdict === 'fixed' &&
        (v.variant === azure || (race === 'race2' && after.detection.variantsPresent.includes('azure-952939')))
      ) {
        return {
          ...plan,
          blocked: `after the planned reverts ${label} still shows ${azure} (${v.explain}): a commit carrying it was not found; name it to revert (--revert ${azure}=SHA) or revert it by hand`,
        };
      }
    }
    if (race === 'race1' && (v.variant === 'rework-2020' || v.variant === 'reverse-2024')) continue;
    const present = v.verdict === 'fixed' && (v.variant === up || (up === '4e35c1cb9460' && v.variant === '07998281c268'));
    if (present) {
      if (revertedRaces.has(race))
        plan.notes.push(`${up} survives the reverts (${label} still reads ${verdictLabel(v)} after them): it is not picked again`);
      continue;
    }
    if (v.verdict === 'missing') {
      if (up === 'ed07d9a021df' && options.race1Backportable === false) {
        plan.race1Open = true;
        plan.notes.push(
          'race 1 stays open: ed07d9a021df does not apply to a 4.9-shaped resolver (it handles skb->nfct itself) and 4.9.y never received it; only race 2 is backported',
        );
        continue;
      }
      picks.push(up);
    }
  }
  // Newest first, as a stack must be undone; history lists commits newest first.
  const order = new Map((history?.commits ?? []).map((c, i) => [c.sha, i]));
  reverts.sort((a, b) => (order.get(a.sha) ?? 0) - (order.get(b.sha) ?? 0));
  steps.push(...reverts);
  for (const up of picks) {
    const e = entry(up);
    const sha = options.commits?.[up] ?? e.commits[0];
    const patch = findPatch(options.patches, e.subject);
    const source: StepSource = patch ?? { remote: options.remote };
    steps.push({
      kind: 'cherry-pick',
      sha,
      variant: up,
      subject: e.subject,
      source,
      why: `upstream fix for ${RACE_OF[up] === 'race1' ? 'race 1' : 'race 2'} (${e.kernel})`,
    });
  }
  plan.steps = steps;
  if (!steps.length) {
    const r1 = detection.races.race1;
    const r2 = detection.races.race2;
    plan.noop = plan.notes.length
      ? 'nothing that can be backported: see the notes'
      : `nothing to do: both upstream fixes are already present (race 1: ${verdictLabel(r1)}, race 2: ${verdictLabel(r2)})`;
  }
  if (steps.some((s) => s.kind === 'cherry-pick' && 'remote' in s.source && !s.source.remote))
    plan.warnings.push('no remote named: the upstream commits must already be in the repository (or pass a remote or patch files)');
  return plan;
}

function findPatch(patches: PlanOptions['patches'], subject: string): StepSource | undefined {
  for (const p of patches ?? []) {
    const i = p.messages.findIndex((m) => bareSubject(m.subject) === subject);
    if (i >= 0) return { patchFile: p.file, index: i };
  }
  return undefined;
}

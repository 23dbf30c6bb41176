// The backport feature's entry points for the CLI and the extension: detect a tree and build
// its plan in one call, plus everything the surfaces need (preview, apply, continue, abort).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CORE_REL_PATH, detectPath } from '../detect';
import { resolveTarget } from '../detect/input';
import { parseMessage, splitMessages } from '../patch/mbox';
import type { DetectionResult } from '../types';
import { buildPlan, BackportPlan, PlanOptions, race1Backportable } from './plan';
import { predictAfterReverts } from './predict';

export * from './plan';
export * from './messages';
export { formatPlan, coverLetter, diffstat, stepLine } from './document';
export { predictDiff, predictAfterReverts } from './predict';
export type { PredictedDiff, PredictedFile, AfterReverts } from './predict';
export { applyPlan, continueRun, abortRun, resumeRun, pendingRun, isUpstreamState, backupRefPrefix } from './execute';
export type { RunResult, RunStatus, ProgressEvent, ExecuteOptions, ContinueOptions } from './execute';
export { resolvePlan, BackportError } from './resolve';
export type { ResolvedPlan, ResolvedStep } from './resolve';

export interface PrepareOptions extends Omit<PlanOptions, 'patches' | 'race1Backportable' | 'afterReverts'> {
  /** Paths of .patch/.mbox files holding the upstream commits (every message is kept, so indices match splitMessages). */
  patchFiles?: string[];
}

/** Detect (with history) and plan for a kernel checkout or its nf_conntrack_core.c. */
export async function prepareBackport(
  target: string,
  opts: PrepareOptions = {},
): Promise<{ detection: DetectionResult; plan: BackportPlan; treeRoot: string }> {
  const t = resolveTarget(target);
  if (!t.ok) throw new Error(t.reason);
  const detection = await detectPath(target, { history: true });
  const patches = (opts.patchFiles ?? []).map((file) => ({
    file,
    messages: splitMessages(fs.readFileSync(file, 'utf8')).map(parseMessage),
  }));
  const coreText = fs.readFileSync(t.file, 'latin1');
  const planOpts: PlanOptions = { ...opts, patches, race1Backportable: race1Backportable(coreText) };
  const treeRoot = detection.history?.repoRoot ?? t.treeRoot ?? target;
  let plan = buildPlan(detection, detection.history, planOpts);
  if (plan.steps.some((s) => s.kind === 'revert')) {
    // Plan again against the tree as the reverts will leave it.
    const afterReverts = await detectAfterReverts(treeRoot, plan, detection).catch((e: Error) => ({ problem: e.message }));
    plan = buildPlan(detection, detection.history, { ...planOpts, afterReverts });
  }
  return { detection, plan, treeRoot };
}

/** Source-layer detection (nf_conntrack_core.c and nf_nat_core.c) of the tree after the plan's reverts. */
export async function detectAfterReverts(
  treeRoot: string,
  plan: BackportPlan,
  detection: DetectionResult,
): Promise<{ detection?: DetectionResult; problem?: string }> {
  const rel = detection.history?.relPath ?? CORE_REL_PATH;
  const natRel = path.posix.join(path.posix.dirname(rel), 'nf_nat_core.c');
  const predicted = await predictAfterReverts(treeRoot, plan, [rel, natRel]);
  if (predicted.problem) return { problem: predicted.problem };
  const core = predicted.files[rel];
  if (core === null || core === undefined) return { problem: `the reverts would delete ${rel}` };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conntrack-backport-after-'));
  try {
    const dir = path.join(tmp, 'net', 'netfilter');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'nf_conntrack_core.c'), core, 'latin1');
    const nat = predicted.files[natRel];
    if (typeof nat === 'string') fs.writeFileSync(path.join(dir, 'nf_nat_core.c'), nat, 'latin1');
    return { detection: await detectPath(tmp, { history: false }) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// The backport feature's entry points for the CLI and the extension: detect a tree and build
// its plan in one call, plus everything the surfaces need (preview, apply, continue, abort).

import * as fs from 'node:fs';
import { detectPath } from '../detect';
import { resolveTarget } from '../detect/input';
import { parseMessage, splitMessages } from '../patch/mbox';
import type { DetectionResult } from '../types';
import { buildPlan, BackportPlan, PlanOptions, race1Backportable } from './plan';

export * from './plan';
export * from './messages';
export { formatPlan, coverLetter, diffstat, stepLine } from './document';
export { predictDiff } from './predict';
export type { PredictedDiff, PredictedFile } from './predict';
export { applyPlan, continueRun, abortRun, resumeRun, pendingRun, isUpstreamState, backupRefPrefix } from './execute';
export type { RunResult, RunStatus, ProgressEvent, ExecuteOptions, ContinueOptions } from './execute';
export { resolvePlan, BackportError } from './resolve';
export type { ResolvedPlan, ResolvedStep } from './resolve';

export interface PrepareOptions extends Omit<PlanOptions, 'patches' | 'race1Backportable'> {
  /** Paths of .patch/.mbox files holding the upstream commits (every message is kept, so indices match splitMessages). */
  patchFiles?: string[];
}

/** Detect (with history) and plan for a kernel checkout or its nf_conntrack_core.c. */
export async function prepareBackport(target: string, opts: PrepareOptions = {}): Promise<{ detection: DetectionResult; plan: BackportPlan; treeRoot: string }> {
  const t = resolveTarget(target);
  if (!t.ok) throw new Error(t.reason);
  const detection = await detectPath(target, { history: true });
  const patches = (opts.patchFiles ?? []).map((file) => ({ file, messages: splitMessages(fs.readFileSync(file, 'utf8')).map(parseMessage) }));
  const coreText = fs.readFileSync(t.file, 'latin1');
  const plan = buildPlan(detection, detection.history, { ...opts, patches, race1Backportable: race1Backportable(coreText) });
  const treeRoot = detection.history?.repoRoot ?? t.treeRoot ?? target;
  return { detection, plan, treeRoot };
}

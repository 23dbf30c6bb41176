// Revert-then-cherry-pick in the editor: plan as a document, predicted diff in the diff view,
// then apply with progress, stop on conflicts with Continue/Abort, and recover an interrupted
// run on the next activation. The behaviour is the core's (src/core/backport); this is glue.

import { logRun } from '../output';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  abortRun,
  applyPlan,
  BackportPlan,
  continueRun,
  coverLetter,
  diffstat,
  formatPlan,
  parseIdentity,
  pendingRun,
  predictDiff,
  PredictedDiff,
  prepareBackport,
  resumeRun,
  RunResult,
} from '../core/backport';
import type { DetectionResult } from '../core/types';
import { resolveSignOff } from '../config';
import type { Ctx } from '../ctx';
import { testPlanSection } from '../core/testplan/format';
import { lastTestPlan } from '../testplan/store';

const PREDICT_SCHEME = 'conntrack-predict';

/** Before/after texts of a predicted diff, served read-only to vscode.diff. */
class PredictedDocs implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, string>();
  set(key: string, text: string): vscode.Uri {
    this.docs.set(key, text);
    return vscode.Uri.from({ scheme: PREDICT_SCHEME, path: `/${key}` });
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.path.slice(1)) ?? '';
  }
}
const predicted = new PredictedDocs();

export function registerBackport(): vscode.Disposable[] {
  return [vscode.workspace.registerTextDocumentContentProvider(PREDICT_SCHEME, predicted)];
}

interface Prepared {
  tree: string;
  detection: DetectionResult;
  plan: BackportPlan;
}

async function prepare(ctx: Ctx, treeRoot: vscode.Uri): Promise<Prepared | undefined> {
  const cfg = ctx.config(treeRoot).backport;
  const signoff = parseIdentity(await resolveSignOff(cfg, treeRoot.fsPath)) ?? undefined;
  const commits = Object.fromEntries(Object.entries(cfg.commitOverrides).filter(([k]) => k === 'ed07d9a021df' || k === '4e35c1cb9460'));
  const r = await prepareBackport(treeRoot.fsPath, {
    remote: cfg.upstreamRemote,
    commits,
    bug: cfg.bugNumber || undefined,
    signoff,
    series: cfg.sruSeries,
    style: cfg.messageStyle,
  });
  return { tree: r.treeRoot, detection: r.detection, plan: r.plan };
}

async function showPrediction(p: Prepared, diff: PredictedDiff): Promise<void> {
  for (const f of diff.files) {
    const key = `${Date.now()}/${f.path}`;
    const left = predicted.set(`before/${key}`, f.before ?? '');
    const right = predicted.set(`after/${key}`, f.after ?? '');
    await vscode.commands.executeCommand('vscode.diff', left, right, `${path.basename(f.path)}: now ↔ after the backport (predicted)`, {
      preview: false,
    });
  }
}

export function planBackport(ctx: Ctx): (target?: vscode.Uri | string) => Promise<void> {
  return async (target) => {
    const tree = await ctx.pickTree(typeof target === 'string' ? vscode.Uri.parse(target) : target);
    if (!tree) return;
    if (!ctx.mayReadGit) {
      void vscode.window.showWarningMessage(
        'Planning reads git history, which Restricted Mode does not allow. Trust the workspace to plan the backport; detection works without it.',
      );
      return;
    }
    let p: Prepared | undefined;
    let diff: PredictedDiff | undefined;
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Conntrack backport: planning' },
        async (progress) => {
          progress.report({ message: 'detecting and reading history…' });
          p = await prepare(ctx, tree.root);
          if (p && p.plan.steps.length) {
            progress.report({ message: 'predicting the diff (nothing in your tree changes)…' });
            diff = await predictDiff(p.tree, p.plan, { fetch: vscode.workspace.isTrusted });
          }
        },
      );
    } catch (e) {
      ctx.log.error(`planBackport: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Could not plan the backport: ${(e as Error).message}`);
      return;
    }
    if (!p) return;
    const doc = formatPlan(p.plan, 'markdown', diff?.messages);
    await ctx.reports.show(
      'backport-plan',
      doc +
        (diff?.conflict
          ? `\n\n> ⚠ Step ${diff.conflict.step} (${diff.conflict.subject}) would conflict in ${diff.conflict.files.join(', ')}.`
          : ''),
    );
    if (!p.plan.steps.length) {
      void vscode.window.showInformationMessage(`Nothing to apply: ${p.plan.noop ?? p.plan.blocked ?? 'no steps'}`);
      return;
    }
    if (diff) await showPrediction(p, diff);
    const apply = 'Apply on a New Branch';
    const letter = 'Export Cover Letter';
    const choice = await vscode.window.showInformationMessage(
      `Backport plan: ${p.plan.steps.length} steps on ${p.plan.options.branch ?? 'the current branch'}.`,
      apply,
      letter,
    );
    if (choice === letter) await exportCoverLetter(ctx, p, diff);
    if (choice === apply) await runApply(ctx, p);
  };
}

async function exportCoverLetter(ctx: Ctx, p: Prepared, diff?: PredictedDiff, dest?: vscode.Uri): Promise<string | undefined> {
  // The last test plan run on this tree (Run Test Plan in a VM) is the measured [Test Plan].
  const measured = lastTestPlan(ctx.ext, p.tree);
  const text = coverLetter({
    plan: p.plan,
    detection: p.detection,
    signoff: p.plan.options.signoff,
    diffstat: diff ? diffstat(diff.files) : undefined,
    testPlan: measured ? testPlanSection(measured) : undefined,
  });
  dest ??= await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(p.tree, '0000-cover-letter.patch')),
    filters: { Mail: ['patch', 'txt', 'eml'] },
  });
  if (!dest) return undefined;
  await vscode.workspace.fs.writeFile(dest, Buffer.from(text));
  await vscode.window.showTextDocument(dest);
  return dest.fsPath;
}

/** Plan (and predict) for `treeRoot`, then write the cover letter; used after a test plan run. */
export async function exportCoverLetterFor(ctx: Ctx, treeRoot: vscode.Uri, dest?: vscode.Uri): Promise<string | undefined> {
  const p = await prepare(ctx, treeRoot);
  if (!p) return undefined;
  const diff = p.plan.steps.length
    ? await predictDiff(p.tree, p.plan, { fetch: vscode.workspace.isTrusted }).catch(() => undefined)
    : undefined;
  return exportCoverLetter(ctx, p, diff, dest);
}

async function runApply(ctx: Ctx, p: Prepared, stash = false): Promise<void> {
  if (!(await ctx.requireTrust('Applying the backport'))) return;
  const t0 = performance.now();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Conntrack backport', cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      return applyPlan(p.tree, p.plan, {
        stash,
        signal: ac.signal,
        onProgress: (e) => progress.report({ message: e.message, increment: e.phase === 'step' && e.total ? 100 / e.total : undefined }),
      });
    },
  );
  logRun(`backport ${p.tree}`, t0, `${result.status}${result.message ? ` (${result.message})` : ''}`);
  // Uncommitted work is never touched unless the user says so: offer the stash (restored afterwards).
  if (!stash && result.status === 'refused' && (result.errorCode === 'dirty' || result.errorCode === 'untracked')) {
    const withStash = 'Stash, Apply, Restore';
    const choice = await vscode.window.showWarningMessage(`${result.message}`, withStash);
    if (choice === withStash) return runApply(ctx, p, true);
    return;
  }
  await handleResult(ctx, p.tree, result);
}

async function handleResult(ctx: Ctx, tree: string, r: RunResult): Promise<void> {
  ctx.log.info(`backport: ${r.status}: ${r.message}`);
  if (r.status === 'conflict' && r.conflict) {
    for (const f of r.conflict.files) await openConflict(ctx, vscode.Uri.file(path.join(tree, f)));
    const cont = 'Continue (I resolved it)';
    const abort = 'Abort and Restore';
    const choice = await vscode.window.showWarningMessage(
      `Step ${r.conflict.step} (${r.conflict.subject}) conflicts in ${r.conflict.files.join(', ')}. Resolve, stage, then continue; or abort to get back exactly where you were (backup: ${r.backupRef}).`,
      { modal: false },
      cont,
      abort,
    );
    if (choice === cont) await handleResult(ctx, tree, await continueRun(tree, { note: 'adjusted context in nf_conntrack_core.c' }));
    else if (choice === abort) await handleResult(ctx, tree, await abortRun(tree));
    return;
  }
  if (r.status === 'done' || r.status === 'aborted') {
    // History changed: refresh what the lenses and the status bar lay over the live text.
    void ctx.detection.detectTree(tree, { history: true }).catch(() => undefined);
  }
  if (r.status === 'done') {
    const lines =
      r.before && r.after ? (['race1', 'race2', 'race3'] as const).map((k) => `| ${k} | ${r.before![k]} | ${r.after![k]} |`) : [];
    await ctx.reports.show(
      'backport-result',
      [
        `# Backport ${r.upstreamState ? 'done: upstream state reached' : 'done'}`,
        '',
        r.message,
        '',
        '| race | before | after |',
        '|---|---|---|',
        ...lines,
        '',
        `Backup of the previous state: \`${r.backupRef}\``,
      ].join('\n'),
    );
    void vscode.window.showInformationMessage(
      r.upstreamState
        ? 'Backport done: race 1 and race 2 fixed with the upstream commits, no azure variant left.'
        : `Backport done: ${r.message}`,
    );
    return;
  }
  const say =
    r.status === 'aborted' || r.status === 'nothing-to-do' ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
  void say(`Backport ${r.status}: ${r.message}${r.backupRef ? ` (backup: ${r.backupRef})` : ''}`);
}

/** The merge editor when the built-in git extension offers it, else the file with its markers. */
async function openConflict(ctx: Ctx, uri: vscode.Uri): Promise<void> {
  try {
    if ((await vscode.commands.getCommands(true)).includes('git.openMergeEditor')) {
      await vscode.commands.executeCommand('git.openMergeEditor', uri);
      return;
    }
  } catch (err) {
    ctx.log.warn(`merge editor for ${uri.fsPath}: ${err}`);
  }
  await vscode.window.showTextDocument(uri, { preview: false });
}

/** A run interrupted earlier (window closed, process killed): offer to finish or undo it. */
export async function offerPendingRuns(ctx: Ctx): Promise<void> {
  if (!vscode.workspace.isTrusted) return;
  for (const t of ctx.kernelTrees.length ? ctx.kernelTrees : await ctx.refreshKernelTrees()) {
    const j = await pendingRun(t.root.fsPath).catch(() => null);
    if (!j) continue;
    const cont = 'Continue';
    const abort = 'Abort and Restore';
    const stopped = j.state === 'conflict' ? 'stopped on a conflict' : 'was interrupted';
    const choice = await vscode.window.showWarningMessage(
      `A conntrack backport in ${path.basename(t.root.fsPath)} ${stopped}. Continue it, or abort to restore the state before it (backup: ${j.backupRef}).`,
      cont,
      abort,
    );
    if (choice === cont)
      await handleResult(
        ctx,
        t.root.fsPath,
        j.state === 'conflict' ? await continueRun(t.root.fsPath, {}) : await resumeRun(t.root.fsPath),
      );
    if (choice === abort) await handleResult(ctx, t.root.fsPath, await abortRun(t.root.fsPath));
  }
}

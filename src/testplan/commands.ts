// "Run Test Plan in a VM": the editor's front to runTestPlan() (src/core/testplan). Progress in a
// cancellable notification through the three stages (build, boot, run); cancel aborts the run's
// signal, which kills make's and qemu's process groups (src/core/git/proc.ts). The result goes
// into the simulation panel beside the model, into a read-only report, and into the cover
// letter the backport exports (store.ts keeps the last run per tree).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_SECTION } from '../ids';
import { logRun } from '../output';
import type { Ctx } from '../ctx';
import type { TestPlanResult } from '../core/testplan';
import { rememberTestPlan } from './store';
import { liveTestPlanView, progressFraction, stageOf, testPlanView, type LiveFigures } from './view';

/** Arguments a caller (test, panel, another command) may pass instead of answering the prompts. */
export interface RunTestPlanArgs {
  /** The tree to build: a git checkout or a plain source directory (default: the workspace's tree). */
  tree?: string | vscode.Uri;
  afterPlan?: boolean;
  configs?: string[];
  trials?: number;
  /** mbox/patch files holding the upstream commits (when the repository does not have them). */
  patchFiles?: string[];
  /** Cache folder (default ~/.cache/conntrack-backport). */
  cache?: string;
  /** Write the SRU cover letter, with the measured [Test Plan], to this file after the run. */
  coverLetter?: string;
}

export interface RunTestPlanOutcome {
  cancelled: boolean;
  result?: TestPlanResult;
  /** Where the cover letter went, when asked for. */
  coverLetter?: string;
  error?: string;
}

let current: { ac: AbortController; tree: string } | undefined;

/** Cancels the running test plan (the panel's Cancel button); false when none runs. */
export function cancelTestPlan(): boolean {
  if (!current) return false;
  current.ac.abort();
  return true;
}

export function testPlanRunning(): boolean {
  return !!current;
}

interface Choice {
  afterPlan: boolean;
  configs?: string[];
  trials: number;
}

function settings(scope?: vscode.Uri): { trials: number; configs: string[]; tree: string } {
  const c = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  const trials = c.get<number>('testPlan.trials', 10000);
  const configs = c.get<string[]>('testPlan.configs', []);
  return {
    trials: Number.isSafeInteger(trials) && trials > 0 ? trials : 10000,
    configs: Array.isArray(configs) ? configs.filter((x) => typeof x === 'string') : [],
    tree: c.get<string>('testPlan.tree', '') ?? '',
  };
}

async function pickTree(ctx: Ctx, args: RunTestPlanArgs | undefined): Promise<string | undefined> {
  if (args?.tree) return typeof args.tree === 'string' ? args.tree : args.tree.fsPath;
  const configured = settings().tree;
  if (configured) return configured;
  return (await ctx.pickTree())?.root.fsPath;
}

async function pickMode(s: { trials: number; configs: string[] }, isGit: boolean): Promise<Choice | undefined> {
  const n = s.configs.length ? `${s.configs.length} configuration(s)` : 'all 7 configurations';
  const items: (vscode.QuickPickItem & { choice: Choice })[] = [
    ...(isGit
      ? [
          {
            label: '$(git-compare) Before and after the backport plan',
            description: `${s.trials} trials × ${n}`,
            detail: 'builds this commit and the tree as the plan leaves it (in the cache, never in your work tree), boots each',
            choice: { afterPlan: true, trials: s.trials, configs: s.configs },
          },
        ]
      : []),
    {
      label: '$(vm) This tree as it is',
      description: `${s.trials} trials × ${n}`,
      choice: { afterPlan: false, trials: s.trials, configs: s.configs },
    },
    {
      label: '$(zap) Quick check of this tree',
      description: '300 trials × masq, dnat2-random, serial control',
      choice: { afterPlan: false, trials: 300, configs: ['masq', 'dnat2-random', 'serial'] },
    },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Run Test Plan in a VM',
    placeHolder: 'Build the kernel, boot it under qemu, race UDP through NAT, counters beside the model',
  });
  return pick?.choice;
}

function isGitTree(dir: string): boolean {
  return fs.existsSync(path.join(dir, '.git'));
}

const STAGE_TITLE = { build: 'Build', boot: 'Boot', run: 'Run' } as const;

export function runTestPlanCommand(ctx: Ctx): (args?: RunTestPlanArgs) => Promise<RunTestPlanOutcome | undefined> {
  return async (args) => {
    if (current) {
      void vscode.window.showWarningMessage('A test plan is already running: cancel it from its notification first.');
      return undefined;
    }
    const tree = await pickTree(ctx, args);
    if (!tree) return undefined;
    const s = settings(vscode.Uri.file(tree));
    const choice: Choice | undefined =
      args && (args.afterPlan !== undefined || args.trials !== undefined || args.configs)
        ? { afterPlan: !!args.afterPlan, trials: args.trials ?? s.trials, configs: args.configs ?? s.configs }
        : await pickMode(s, isGitTree(tree));
    if (!choice) return undefined;
    const { runTestPlan, formatTestPlan } = await import('../core/testplan');
    const cfg = ctx.config(vscode.Uri.file(tree)).backport;
    const commits = Object.fromEntries(Object.entries(cfg.commitOverrides).filter(([k]) => k === 'ed07d9a021df' || k === '4e35c1cb9460'));
    const ac = new AbortController();
    current = { ac, tree };
    const t0 = performance.now();
    // Figures as they stream from the VM, shown in the panel's card while the run goes on.
    const live: LiveFigures = { tree, release: '', trials: choice.trials, command: '', startedAt: Date.now(), runs: [] };
    let liveShownAt = 0;
    ctx.log.info(`test plan ${tree}: ${choice.afterPlan ? 'before and after the plan' : 'this tree'}, ${choice.trials} trials`);
    let outcome: RunTestPlanOutcome;
    try {
      outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Conntrack test plan', cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => ac.abort());
          const variants = choice.afterPlan ? 2 : 1;
          const configs = choice.configs?.length ? choice.configs.length : 7;
          let variant = 0;
          let stage: 'build' | 'boot' | 'run' = 'build';
          let done = 0;
          let reported = 0;
          let lastMsgAt = 0;
          const report = (message: string, force = false) => {
            const now = Date.now();
            const f = progressFraction(variant, variants, stage, done, configs);
            // make prints a line per object: at most 5 updates a second, the stage changes always.
            if (!force && now - lastMsgAt < 200) return;
            lastMsgAt = now;
            const increment = Math.max(0, Math.round(f * 100) - reported);
            reported += increment;
            progress.report({ message, increment });
            ctx.simulation.showTestPlanStatus(message, true);
          };
          try {
            const result = await runTestPlan(tree, {
              afterPlan: choice.afterPlan,
              configs: choice.configs?.length ? choice.configs : undefined,
              trials: choice.trials,
              plan: { remote: cfg.upstreamRemote, commits, patchFiles: args?.patchFiles },
              cache: args?.cache,
              signal: ac.signal,
              onFigures: (label, c, f) => {
                let run = live.runs.find((x) => x.label === label);
                if (!run) live.runs.push((run = { label, variant: c.model?.variant ?? '', configs: new Map() }));
                run.configs.set(c.config, c);
                // At most two panel updates a second; a configuration's whole result always.
                if (f.partial && Date.now() - liveShownAt < 500) return;
                liveShownAt = Date.now();
                ctx.simulation.showTestPlan(liveTestPlanView(live, 'running'));
              },
              progress: (phase, message) => {
                ctx.log.debug(`test plan ${phase}: ${message}`);
                const rel = /: building (\S+) \(/.exec(message)?.[1];
                if (rel) live.release = rel;
                const label = /^(before|after): /.exec(message)?.[1];
                if (label === 'after' && variant === 0) {
                  variant = 1;
                  done = 0;
                }
                const next = stageOf(phase);
                const changed = next !== stage;
                stage = next;
                if (/: end \S+/.test(message)) done++;
                report(
                  `${STAGE_TITLE[stage]}${variants > 1 ? ` (${variant ? 'after' : 'before'} the plan)` : ''}: ${message.replace(/^(before|after): /, '')}`,
                  changed,
                );
              },
            });
            return { cancelled: ac.signal.aborted, result };
          } catch (e) {
            if (ac.signal.aborted) return { cancelled: true };
            throw e;
          }
        },
      );
    } catch (e) {
      const msg = (e as Error).message;
      logRun(`test plan ${tree}`, t0, `failed: ${msg}`);
      void vscode.window.showErrorMessage(`Test plan: ${msg}`);
      ctx.simulation.showTestPlanStatus(`Failed: ${msg}`, false);
      return { cancelled: false, error: msg };
    } finally {
      current = undefined;
    }
    if (outcome.cancelled) {
      logRun(`test plan ${tree}`, t0, 'cancelled (make and qemu stopped)');
      ctx.simulation.showTestPlanStatus('Cancelled: the build and the VM were stopped.', false);
      if (live.runs.length) ctx.simulation.showTestPlan(liveTestPlanView(live, 'cancelled'));
      void vscode.window.showInformationMessage('Test plan cancelled: the build and the VM were stopped.');
      return outcome;
    }
    const r = outcome.result!;
    const text = formatTestPlan(r);
    logRun(`test plan ${tree}`, t0, r.runs.map((x) => `${x.label}: ${x.error ?? `${x.configs.length} configurations`}`).join('; '));
    for (const line of text.split('\n')) ctx.log.info(line);
    await rememberTestPlan(ctx.ext, r);
    ctx.simulation.showTestPlanStatus(`Finished in ${(r.totalMs / 1000).toFixed(0)} s.`, false);
    ctx.simulation.showTestPlan(testPlanView(r));
    await ctx.reports.show('test-plan', '# Test plan\n\n```\n' + text + '\n```\n');
    if (args?.coverLetter) {
      const { exportCoverLetterFor } = await import('../backport/commands');
      outcome.coverLetter = await exportCoverLetterFor(ctx, vscode.Uri.file(r.tree), vscode.Uri.file(args.coverLetter));
      return outcome;
    }
    const failed = r.runs.filter((x) => x.error);
    const letter = 'Export Cover Letter';
    const summary = r.runs
      .map((x) => {
        const drops = x.configs.reduce((a, c) => a + (c.counters?.drops ?? 0), 0);
        const clashes = x.configs.reduce((a, c) => a + (c.counters?.clashes ?? 0), 0);
        return `${x.label}: ${x.error ? `error (${x.error.slice(0, 80)})` : `${clashes} clashes, ${drops} drops`}`;
      })
      .join('; ');
    const show = failed.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(`Test plan ${r.release}: ${summary}.`, ...(r.kind === 'git' ? [letter] : [])).then(async (c) => {
      if (c !== letter) return;
      const { exportCoverLetterFor } = await import('../backport/commands');
      await exportCoverLetterFor(ctx, vscode.Uri.file(r.tree));
    });
    return outcome;
  };
}

// `backport`: plan or run the SRU-style revert-then-cherry-pick (revert the azure pre-upstream
// commits, pick ed07d9a021df and 4e35c1cb9460), and continue/abort/resume a stopped run.

import * as fs from 'node:fs';
import type { RunResult, UpstreamId } from '../core/backport';
import { gitText } from '../core/git/run';
import { Command, EXIT, flag, InputError, Io, list, Parsed, str, UsageError } from './command';

async function configuredCommits(tree: string): Promise<Partial<Record<UpstreamId, string>>> {
  const out: Partial<Record<UpstreamId, string>> = {};
  let text = '';
  try {
    text = await gitText(tree, ['config', '--get-regexp', '^conntrack-backport\\..*\\.commit$'], { okCodes: [1] });
  } catch {
    return out; // not a repository: prepareBackport says so
  }
  for (const line of text.split('\n')) {
    const m = /^conntrack-backport\.(ed07d9a021df|4e35c1cb9460)\.commit ([0-9a-f]{7,40})$/i.exec(line.trim());
    if (m) out[m[1].toLowerCase() as UpstreamId] = m[2];
  }
  return out;
}

function runExit(r: RunResult): number {
  if (r.status === 'done' || r.status === 'nothing-to-do' || r.status === 'aborted') return EXIT.ok;
  if (r.status === 'conflict') return EXIT.conflict;
  return EXIT.gate;
}

function printRun(r: RunResult, a: Parsed, io: Io): number {
  if (flag(a, 'json')) {
    const { afterDetection, ...rest } = r;
    io.out(JSON.stringify({ ...rest, afterVariants: afterDetection?.variantsPresent }, null, 2));
  } else {
    io.out(`${r.status}: ${r.message}`);
    if (r.conflict) io.out(`conflicted files:\n${r.conflict.files.map((f) => `  ${f}`).join('\n')}`);
    if (r.commits.length) io.out(`commits:\n${r.commits.map((c) => `  ${c}`).join('\n')}`);
    if (r.before && r.after)
      for (const race of Object.keys(r.before)) io.out(`  ${race}: ${r.before[race as 'race1']}  ->  ${r.after[race as 'race1']}`);
  }
  return runExit(r);
}

export const backport: Command = {
  name: 'backport',
  summary:
    'Revert the azure pre-upstream commits and cherry-pick ed07d9a021df and 4e35c1cb9460: --plan shows the steps and messages, --apply runs them on a new branch with a backup ref.',
  synopsis: [
    '--plan | --apply [--json] <kernel-tree> [--remote R] [--patch FILE]... [--bug N] [--signoff "Name <mail>"] [--series Bionic] [--branch B | --in-place] [--stash] [--style sru|stable] [--commit ed07d9a021df=SHA] [--commit 4e35c1cb9460=SHA] [--revert azure-952939=SHA]... [--diff] [--cover-letter] [--no-verify] [--keep-on-mismatch]',
    '--continue [--note TEXT] | --abort | --resume <kernel-tree>',
  ],
  options: {
    plan: { type: 'boolean', help: 'show the steps, commit messages and predicted outcome; changes nothing' },
    apply: { type: 'boolean', help: 'run the plan on a new branch (backup ref kept)' },
    continue: { type: 'boolean', help: 'after a conflict was resolved and git add-ed' },
    abort: { type: 'boolean', help: 'return to exactly the state before --apply' },
    resume: { type: 'boolean', help: 'finish an interrupted --apply' },
    json: { type: 'boolean', help: 'as JSON' },
    remote: { type: 'string', value: 'R', help: 'remote holding the upstream commits (default upstream)' },
    patch: { type: 'string', multiple: true, value: 'FILE', help: 'a patch file to use for a fix instead of fetching it' },
    bug: { type: 'string', value: 'N', help: 'Launchpad bug number for the BugLink: line' },
    signoff: { type: 'string', value: '"Name <mail>"', help: 'Signed-off-by identity (default: git config)' },
    series: { type: 'string', value: 'S', help: 'Ubuntu series in SRU subjects (default Bionic)' },
    branch: { type: 'string', value: 'B', help: 'name of the new branch' },
    'in-place': { type: 'boolean', help: 'commit on the current branch instead of a new one' },
    stash: { type: 'boolean', help: 'stash uncommitted changes first (otherwise they stop the run)' },
    style: { type: 'string', value: 'sru|stable', help: 'commit message convention (default sru)' },
    commit: {
      type: 'string',
      multiple: true,
      value: 'ID=SHA',
      help: 'use SHA for upstream ed07d9a021df or 4e35c1cb9460 (mirrors; default: git config conntrack-backport.<id>.commit)',
    },
    revert: {
      type: 'string',
      multiple: true,
      value: 'ID=SHA',
      help: 'revert this commit as azure-937963 or azure-952939 when history hides it',
    },
    diff: { type: 'boolean', help: 'with --plan: the predicted diff' },
    'cover-letter': { type: 'boolean', help: 'with --plan: an SRU cover letter' },
    'test-plan': {
      type: 'string',
      value: 'FILE',
      help: 'with --cover-letter: a saved `testplan --json` run; its commands and before/after table go into [Test Plan]',
    },
    'no-verify': { type: 'boolean', help: 'skip commit hooks (git commit --no-verify); the check after the run still happens' },
    note: { type: 'string', value: 'TEXT', help: 'with --continue: a note for the resolved commit (pick or revert)' },
    'keep-on-mismatch': {
      type: 'boolean',
      help: 'keep the result when detection afterwards does not read the upstream state (the run still fails)',
    },
  },
  positionals: { min: 1, max: 1, names: 'a kernel tree (a git checkout)' },
  conflicts: [
    ['plan', 'apply', 'continue', 'abort', 'resume'],
    ['branch', 'in-place'],
    ['plan', 'stash'],
  ],
  notes: [
    'exit: 0 done or nothing to do, 1 plan blocked or run failed, 3 not a kernel tree, 4 stopped at a conflict (resolve, git add, --continue)',
  ],
  async run(a, io) {
    const {
      abortRun,
      applyPlan,
      continueRun,
      coverLetter,
      diffstat,
      formatPlan,
      parseIdentity,
      predictDiff,
      prepareBackport,
      resumeRun,
      BackportError,
    } = await import('../core/backport');
    const target = a.positionals[0];
    const progress = flag(a, 'json')
      ? undefined
      : (e: { phase: string; step?: number; total?: number; message: string }) =>
          io.err(`${e.step ? `[${e.step}/${e.total}] ` : ''}${e.message}`);
    const keepOnMismatch = flag(a, 'keep-on-mismatch') || undefined;
    if (flag(a, 'continue'))
      return printRun(
        await continueRun(target, { note: str(a, 'note'), onProgress: progress, noVerify: flag(a, 'no-verify'), keepOnMismatch }),
        a,
        io,
      );
    if (flag(a, 'abort')) return printRun(await abortRun(target, { onProgress: progress }), a, io);
    if (flag(a, 'resume'))
      return printRun(await resumeRun(target, { onProgress: progress, noVerify: flag(a, 'no-verify'), keepOnMismatch }), a, io);
    if (!flag(a, 'plan') && !flag(a, 'apply')) throw new UsageError('backport needs one of --plan, --apply, --continue, --abort, --resume');

    const signoffText = str(a, 'signoff');
    const signoff = signoffText !== undefined ? parseIdentity(signoffText) : undefined;
    if (signoffText !== undefined && !signoff)
      throw new UsageError(`--signoff must be one line "Name <address>", got ${JSON.stringify(signoffText)}`);
    const style = str(a, 'style') ?? 'sru';
    if (style !== 'sru' && style !== 'stable') throw new UsageError('--style is sru or stable');
    // Mirrors (and the demo repository) record their copies' ids in the tree's git config:
    // conntrack-backport.<id>.commit = SHA; an explicit --commit wins.
    const commits: Partial<Record<UpstreamId, string>> = await configuredCommits(target);
    for (const c of list(a, 'commit')) {
      const eq = c.indexOf('=');
      const k = c.slice(0, eq);
      const v = c.slice(eq + 1);
      if ((k !== 'ed07d9a021df' && k !== '4e35c1cb9460') || eq < 0 || !/^[0-9a-f]{7,40}$/i.test(v))
        throw new UsageError(`--commit takes ed07d9a021df=SHA or 4e35c1cb9460=SHA, got ${JSON.stringify(c)}`);
      commits[k] = v;
    }
    const reverts: Partial<Record<'azure-937963' | 'azure-952939', string[]>> = {};
    for (const r of list(a, 'revert')) {
      const eq = r.indexOf('=');
      const k = r.slice(0, eq);
      const v = r.slice(eq + 1);
      if ((k !== 'azure-937963' && k !== 'azure-952939') || eq < 0 || !/^[0-9a-f]{7,40}$/i.test(v))
        throw new UsageError(`--revert takes azure-937963=SHA or azure-952939=SHA, got ${JSON.stringify(r)}`);
      (reverts[k] ??= []).push(v);
    }
    const bugText = str(a, 'bug');
    if (bugText !== undefined && !/^\d+$/.test(bugText)) throw new UsageError('--bug is a Launchpad bug number');
    let prepared;
    try {
      prepared = await prepareBackport(target, {
        remote: str(a, 'remote'),
        patchFiles: list(a, 'patch').length ? list(a, 'patch') : undefined,
        bug: bugText,
        signoff: signoff ?? undefined,
        series: str(a, 'series'),
        branch: flag(a, 'in-place') ? null : str(a, 'branch'),
        style,
        commits,
        reverts,
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { detection, plan, treeRoot } = prepared;

    if (flag(a, 'plan')) {
      let messages: string[] | undefined;
      let diff;
      let cover: string | undefined;
      let problem: string | undefined;
      if (plan.steps.length) {
        try {
          diff = await predictDiff(treeRoot, plan);
          messages = diff.messages;
        } catch (e) {
          problem = e instanceof BackportError ? e.message : (e as Error).message;
        }
      }
      let testPlan: string[] | undefined;
      const tpFile = str(a, 'test-plan');
      if (tpFile) {
        const { testPlanSection } = await import('../core/testplan');
        let saved;
        try {
          saved = JSON.parse(fs.readFileSync(tpFile, 'utf8'));
        } catch (e) {
          throw new InputError(`${tpFile}: not a saved test plan run (${(e as Error).message.split('\n')[0]})`);
        }
        if (!saved || !Array.isArray(saved.runs) || typeof saved.command !== 'string')
          throw new InputError(`${tpFile}: not the JSON of conntrack-backport testplan --json`);
        testPlan = testPlanSection(saved);
      }
      if (flag(a, 'cover-letter'))
        cover = coverLetter({
          plan,
          detection,
          signoff: diff?.resolved.signoff ?? plan.options.signoff,
          diffstat: diff ? diffstat(diff.files) : undefined,
          testPlan,
        });
      if (flag(a, 'json')) {
        io.out(
          JSON.stringify(
            {
              plan,
              messages,
              problem,
              conflict: diff?.conflict,
              diff: flag(a, 'diff') ? diff?.files.map(({ path, patch }) => ({ path, patch })) : undefined,
              coverLetter: cover,
            },
            null,
            2,
          ),
        );
      } else {
        io.out(formatPlan(plan, 'text', messages));
        if (problem) io.out(`cannot preview: ${problem}`);
        if (diff?.conflict)
          io.out(`predicted conflict at step ${diff.conflict.step} (${diff.conflict.subject}) in ${diff.conflict.files.join(', ')}`);
        if (flag(a, 'diff') && diff) for (const f of diff.files) io.out(f.patch);
        if (cover) io.out(`\n${cover}`);
      }
      return plan.blocked || problem ? EXIT.gate : EXIT.ok;
    }
    return printRun(
      await applyPlan(treeRoot, plan, { stash: flag(a, 'stash'), onProgress: progress, noVerify: flag(a, 'no-verify'), keepOnMismatch }),
      a,
      io,
    );
  },
};

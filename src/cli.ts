// Command-line front end over the same core the extension uses, for terminals and CI.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectPath, TargetError } from './core/detect';
import { resolveTarget } from './core/detect/input';
import { indexFunctions } from './core/parse/treesitter';
import type { checkPatchText as CheckPatchText } from './core/patch/applied';
import { joinPatchReports } from './core/patch/join';
import { formatDetection } from './core/report';
import { CATALOGUE } from './core/catalogue';
import type { RunResult, UpstreamId } from './core/backport';
import type { RepoScenario } from './core/fixtures/demoRepo';
import type { SweepProgress } from './core/matrix';

interface Args {
  cmd: string;
  positional: string[];
  flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(['json', 'csv', 'no-history', 'plan', 'apply', 'exhaustive', 'help', 'markdown', 'progress', 'stash', 'cover-letter', 'diff', 'continue', 'abort', 'resume', 'in-place', 'no-verify', 'conflict', 'keep-on-mismatch']);

export function parseArgs(argv: string[]): Args {
  const [cmd = 'help', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--') {
      positional.push(...rest.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const k = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const v = eq < 0 ? undefined : a.slice(eq + 1); // --commit=ed07d9a021df=SHA keeps its second '='
      const val = v ?? (BOOLEAN_FLAGS.has(k) ? 'true' : rest[++i]);
      if (val === undefined) throw new UsageError(`--${k} needs a value`);
      flags.set(k, [...(flags.get(k) ?? []), val]);
    } else positional.push(a);
  }
  return { cmd, positional, flags };
}

export class UsageError extends Error {}

const USAGE = `usage: conntrack-backport <command> [options]

  detect [--json|--markdown] [--no-history] [--patch FILE]... <kernel-tree | nf_conntrack_core.c>
      which nf_conntrack race fixes the tree carries, with evidence
  check-patch [--json] <patch-or-mbox> <kernel-tree | file>
      is this patch applied here? (per hunk, robust to offsets and moved functions)
  functions [--json] <file.c>
      the function index tree-sitter sees (name, lines, #if condition)
  backport --plan|--apply [--json] <kernel-tree> [--remote R] [--patch FILE]... [--bug N]
           [--signoff "Name <mail>"] [--series Bionic] [--branch B | --in-place] [--stash]
           [--style sru|stable] [--commit ed07d9a021df=SHA] [--commit 4e35c1cb9460=SHA]
           [--revert azure-952939=SHA]... [--diff] [--cover-letter] [--no-verify] [--keep-on-mismatch]
      revert the azure pre-upstream commits and cherry-pick ed07d9a021df and 4e35c1cb9460:
      --plan shows the steps and messages (--diff: predicted diff, --cover-letter: SRU cover
      letter), --apply runs them on a new branch with a backup ref
  backport --continue [--note TEXT] | --abort | --resume <kernel-tree>
      after a conflict (resolve and git add first), or after an interrupted --apply
  demo-repo [--scenario azure|none|race1|race2|upstream] [--conflict] <dir>
      build a bionic-like demo kernel repository and its "upstream" remote in <dir>
  sweep [--refs PATTERN]... [--path P] [--override ID=SHA]... [--no-history] [--json|--csv|--markdown] [--progress] <repo>
      which branches and tags carry which fix, where each fix entered and where it was lost;
      PATTERN is a glob on the short or full ref name (v4.19.*, Ubuntu-*, refs/remotes/origin/*)
      or one of branches, tags, remotes, all (default: branches and tags)
  simulate --scenario NAME --variant <NAME | from-tree PATH> [--exhaustive] [--trials N] [--seed S] [--json]
      run the bundled conntrack model (scenarios: dns-snat, dns-vip, tcp-masquerade, table-overflow, …)
  stats [--json] <conntrack -S output file | ->
      parse real conntrack -S (or /proc/net/stat/nf_conntrack) output and say what it shows
`;

type Out = (s: string) => void;
export type Command = (a: Args, out: Out) => Promise<number>;

const has = (a: Args, f: string): boolean => a.flags.has(f);

async function cmdDetect(a: Args, out: Out): Promise<number> {
  const target = a.positional[0];
  if (!target) throw new UsageError('detect needs a kernel tree or a file');
  const result = await detectPath(target, { history: !has(a, 'no-history') });
  const patches = [];
  for (const p of a.flags.get('patch') ?? []) {
    const reports = await checkPatchAgainst(p, target);
    joinPatchReports(result, p, reports);
    patches.push({ patch: p, reports });
  }
  if (has(a, 'json')) out(JSON.stringify(patches.length ? { ...result, patches } : result, null, 2));
  else out(formatDetection(result, has(a, 'markdown') ? 'markdown' : 'text'));
  return 0;
}

async function checkPatchAgainst(patchFile: string, target: string): Promise<ReturnType<typeof CheckPatchText>> {
  const { checkPatchText } = await import('./core/patch/applied');
  const t = resolveTarget(target);
  if (!t.ok) throw new TargetError(t.reason);
  const root = t.treeRoot;
  const patchText = fs.readFileSync(patchFile, 'utf8');
  return checkPatchText(patchText, (p) => {
    const candidates = root ? [path.join(root, p)] : [t.file];
    for (const c of candidates) if (fs.existsSync(c) && (root || path.basename(c) === path.basename(p))) return fs.readFileSync(c, 'latin1');
    return null;
  });
}

async function cmdCheckPatch(a: Args, out: Out): Promise<number> {
  const [patch, target] = a.positional;
  if (!patch || !target) throw new UsageError('check-patch needs a patch file and a kernel tree or file');
  const reports = await checkPatchAgainst(patch, target);
  if (has(a, 'json')) out(JSON.stringify(reports, null, 2));
  else
    for (const r of reports) {
      out(`${r.subject || '(no subject)'}: ${r.overall} — ${r.explain}`);
      for (const f of r.files) {
        if (!f.present) out(`  ${f.path}: not in this tree`);
        for (const h of f.hunks) out(`  ${f.path} hunk ${h.index}${h.function ? ` (${h.function})` : ''}: ${h.state}${h.line ? ` near line ${h.line}` : ''} — ${h.reason}`);
      }
    }
  return 0;
}

async function cmdFunctions(a: Args, out: Out): Promise<number> {
  const file = a.positional[0];
  if (!file) throw new UsageError('functions needs a C file');
  const fns = await indexFunctions(fs.readFileSync(file, 'latin1'));
  if (has(a, 'json')) out(JSON.stringify(fns.map(({ bodyStart, bodyEnd, ...f }) => (void bodyStart, void bodyEnd, f)), null, 2));
  else for (const f of fns) out(`${String(f.startLine).padStart(5)}-${String(f.endLine).padEnd(5)} ${f.name}${f.condition ? `   [#if ${f.condition}]` : ''}`);
  return 0;
}

const one = (a: Args, f: string): string | undefined => a.flags.get(f)?.slice(-1)[0];

function runExit(r: RunResult): number {
  if (r.status === 'done' || r.status === 'nothing-to-do' || r.status === 'aborted') return 0;
  if (r.status === 'conflict') return 3;
  return 1;
}

function printRun(r: RunResult, a: Args, out: Out): number {
  if (has(a, 'json')) {
    const { afterDetection, ...rest } = r;
    out(JSON.stringify({ ...rest, afterVariants: afterDetection?.variantsPresent }, null, 2));
  } else {
    out(`${r.status}: ${r.message}`);
    if (r.conflict) out(`conflicted files:\n${r.conflict.files.map((f) => `  ${f}`).join('\n')}`);
    if (r.commits.length) out(`commits:\n${r.commits.map((c) => `  ${c}`).join('\n')}`);
    if (r.before && r.after) for (const race of Object.keys(r.before)) out(`  ${race}: ${r.before[race as 'race1']}  ->  ${r.after[race as 'race1']}`);
  }
  return runExit(r);
}

async function cmdBackport(a: Args, out: Out): Promise<number> {
  const { abortRun, applyPlan, continueRun, coverLetter, diffstat, formatPlan, parseIdentity, predictDiff, prepareBackport, resumeRun, BackportError } = await import('./core/backport');
  const target = a.positional[0];
  if (!target) throw new UsageError('backport needs a kernel tree');
  const progress = has(a, 'json') ? undefined : (e: { phase: string; step?: number; total?: number; message: string }) => process.stderr.write(`${e.step ? `[${e.step}/${e.total}] ` : ''}${e.message}\n`);
  const keepOnMismatch = has(a, 'keep-on-mismatch') || undefined;
  if (has(a, 'continue')) return printRun(await continueRun(target, { note: one(a, 'note'), onProgress: progress, noVerify: has(a, 'no-verify'), keepOnMismatch }), a, out);
  if (has(a, 'abort')) return printRun(await abortRun(target, { onProgress: progress }), a, out);
  if (has(a, 'resume')) return printRun(await resumeRun(target, { onProgress: progress, noVerify: has(a, 'no-verify'), keepOnMismatch }), a, out);
  if (has(a, 'plan') === has(a, 'apply')) throw new UsageError('backport needs exactly one of --plan, --apply, --continue, --abort, --resume');

  const signoffText = one(a, 'signoff');
  const signoff = signoffText ? parseIdentity(signoffText) : undefined;
  if (signoffText !== undefined && !signoff) throw new UsageError(`--signoff must be one line "Name <address>", got ${JSON.stringify(signoffText)}`);
  const style = one(a, 'style') ?? 'sru';
  if (style !== 'sru' && style !== 'stable') throw new UsageError('--style is sru or stable');
  const commits: Partial<Record<UpstreamId, string>> = {};
  for (const c of a.flags.get('commit') ?? []) {
    const eq = c.indexOf('=');
    const k = c.slice(0, eq);
    const v = c.slice(eq + 1);
    if ((k !== 'ed07d9a021df' && k !== '4e35c1cb9460') || eq < 0 || !/^[0-9a-f]{7,40}$/i.test(v)) throw new UsageError(`--commit takes ed07d9a021df=SHA or 4e35c1cb9460=SHA, got ${JSON.stringify(c)}`);
    commits[k] = v;
  }
  const reverts: Partial<Record<'azure-937963' | 'azure-952939', string[]>> = {};
  for (const r of a.flags.get('revert') ?? []) {
    const eq = r.indexOf('=');
    const k = r.slice(0, eq);
    const v = r.slice(eq + 1);
    if ((k !== 'azure-937963' && k !== 'azure-952939') || eq < 0 || !/^[0-9a-f]{7,40}$/i.test(v)) throw new UsageError(`--revert takes azure-937963=SHA or azure-952939=SHA, got ${r}`);
    (reverts[k] ??= []).push(v);
  }
  const bugText = one(a, 'bug');
  if (bugText !== undefined && !/^\d+$/.test(bugText)) throw new UsageError('--bug is a Launchpad bug number');
  let prepared;
  try {
    prepared = await prepareBackport(target, {
      remote: one(a, 'remote'),
      patchFiles: a.flags.get('patch'),
      bug: bugText,
      signoff: signoff ?? undefined,
      series: one(a, 'series'),
      branch: has(a, 'in-place') ? null : one(a, 'branch'),
      style,
      commits,
      reverts,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { detection, plan, treeRoot } = prepared;

  if (has(a, 'plan')) {
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
    if (has(a, 'cover-letter')) cover = coverLetter({ plan, detection, signoff: diff?.resolved.signoff ?? plan.options.signoff, diffstat: diff ? diffstat(diff.files) : undefined });
    if (has(a, 'json')) {
      out(JSON.stringify({ plan, messages, problem, conflict: diff?.conflict, diff: has(a, 'diff') ? diff?.files.map(({ path, patch }) => ({ path, patch })) : undefined, coverLetter: cover }, null, 2));
    } else {
      out(formatPlan(plan, 'text', messages));
      if (problem) out(`cannot preview: ${problem}`);
      if (diff?.conflict) out(`predicted conflict at step ${diff.conflict.step} (${diff.conflict.subject}) in ${diff.conflict.files.join(', ')}`);
      if (has(a, 'diff') && diff) for (const f of diff.files) out(f.patch);
      if (cover) out(`\n${cover}`);
    }
    return plan.blocked || problem ? 1 : 0;
  }
  return printRun(await applyPlan(treeRoot, plan, { stash: has(a, 'stash'), onProgress: progress, noVerify: has(a, 'no-verify'), keepOnMismatch }), a, out);
}

async function cmdDemoRepo(a: Args, out: Out): Promise<number> {
  const { createDemoRepos } = await import('./core/fixtures/demoRepo');
  const dir = a.positional[0];
  if (!dir) throw new UsageError('demo-repo needs a directory');
  const scenario = (one(a, 'scenario') ?? 'azure') as RepoScenario;
  if (!['azure', 'none', 'race1', 'race2', 'upstream'].includes(scenario)) throw new UsageError(`unknown scenario ${scenario}`);
  const r = createDemoRepos({ dir: path.resolve(dir), scenario, conflict: has(a, 'conflict') });
  const cmd = `node dist/cli.js backport --plan ${r.tree} --remote ${r.remote} --commit ed07d9a021df=${r.upstreamShas.ed07d9a021df} --commit 4e35c1cb9460=${r.upstreamShas['4e35c1cb9460']} --bug 1836816 --series Bionic`;
  if (has(a, 'json')) out(JSON.stringify({ ...r, baseCore: undefined, fixedCore: undefined, planCommand: cmd }, null, 2));
  else out(`demo kernel tree: ${r.tree}\nupstream remote '${r.remote}': ${r.upstream}\nupstream commits (git-made ids, pass them as overrides):\n  ed07d9a021df -> ${r.upstreamShas.ed07d9a021df}\n  4e35c1cb9460 -> ${r.upstreamShas['4e35c1cb9460']}\ntry:\n  ${cmd}`);
  return 0;
}

async function cmdSweep(a: Args, out: Out): Promise<number> {
  const { exportMatrix, sweep } = await import('./core/matrix');
  const repo = a.positional[0];
  if (!repo) throw new UsageError('sweep needs a repository');
  if (!fs.existsSync(repo)) throw new UsageError(`${repo}: no such directory`);
  const refs = a.flags.get('refs') ?? [];
  const bad = refs.find((r) => r.startsWith('-'));
  if (bad) throw new UsageError(`refusing a ref pattern that starts with '-': ${bad}`);
  const progress = has(a, 'progress') ? (p: SweepProgress): void => void process.stderr.write(`\r${p.phase}: ${p.message}`.padEnd(60)) : undefined;
  // Upstream ids for the patch-id layer when the repository's copies were made elsewhere (mirrors).
  const overrides: Record<string, string> = {};
  for (const o of a.flags.get('override') ?? []) {
    const m = /^([\w-]+)=([0-9a-fA-F]{7,40})$/.exec(o);
    if (!m || !CATALOGUE.some((e) => e.id === m[1])) throw new UsageError(`--override wants ID=SHA with a catalogue id (${CATALOGUE.map((e) => e.id).join(', ')}): ${o}`);
    overrides[m[1]] = m[2];
  }
  const m = await sweep(repo, { refs, path: a.flags.get('path')?.[0], overrides, history: !has(a, 'no-history'), onProgress: progress });
  if (progress) process.stderr.write('\n');
  out(exportMatrix(m, has(a, 'json') ? 'json' : has(a, 'csv') ? 'csv' : 'markdown').trimEnd());
  return 0;
}

async function cmdSimulate(a: Args, out: Out): Promise<number> {
  const { runSimulateCommand, modelVariantFromDetection, SCENARIO_NAMES } = await import('./core/model');
  const scenario = a.flags.get('scenario')?.[0];
  let variant = a.flags.get('variant')?.[0];
  if (!scenario) throw new UsageError(`simulate needs --scenario (one of ${SCENARIO_NAMES.join(', ')})`);
  if (!variant) throw new UsageError('simulate needs --variant NAME or --variant from-tree PATH');
  const caveats: string[] = [];
  if (variant === 'from-tree') {
    const tree = a.positional[0];
    if (!tree) throw new UsageError('--variant from-tree needs a kernel tree or file after it');
    const m = modelVariantFromDetection(await detectPath(tree, { history: !has(a, 'no-history') }));
    variant = m.variant;
    caveats.push(`variant ${m.variant} detected from ${tree}`, ...m.caveats);
  }
  const num = (k: string): number | undefined => {
    const v = a.flags.get(k)?.[0];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${k} must be a non-negative number`);
    return n;
  };
  let r;
  try {
    r = runSimulateCommand({ scenario, variant, exhaustive: has(a, 'exhaustive'), trials: num('trials'), seed: num('seed'), json: has(a, 'json') });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (has(a, 'json')) out(JSON.stringify({ ...r.json, caveats }, null, 2));
  else out([...caveats.map((c) => `note:     ${c}`), r.text].join('\n'));
  return 0;
}

async function cmdStats(a: Args, out: Out): Promise<number> {
  const { parseConntrackStats, interpretStats, ConntrackStatsError } = await import('./core/conntrackStats');
  const src = a.positional[0];
  if (!src) throw new UsageError('stats needs a file with conntrack -S output (or - for stdin)');
  const text = src === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(src, 'utf8');
  try {
    const stats = parseConntrackStats(text);
    const verdict = interpretStats(stats, {});
    if (has(a, 'json')) out(JSON.stringify({ stats, interpretation: verdict }, null, 2));
    else out([verdict.summary, ...verdict.sentences.filter((s: string) => s !== verdict.summary).map((s: string) => `  ${s}`)].join('\n'));
  } catch (e) {
    if (e instanceof ConntrackStatsError) throw new UsageError(e.message);
    throw e;
  }
  return 0;
}

export const COMMANDS: Record<string, Command> = {
  backport: cmdBackport,
  'demo-repo': cmdDemoRepo,
  simulate: cmdSimulate,
  stats: cmdStats,
  detect: cmdDetect,
  'check-patch': cmdCheckPatch,
  functions: cmdFunctions,
  sweep: cmdSweep,
};

export async function main(argv: string[], out: Out = (s) => process.stdout.write(s + '\n'), err: Out = (s) => process.stderr.write(s + '\n')): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    err(String((e as Error).message));
    return 2;
  }
  if (a.cmd === 'help' || a.cmd === '--help' || has(a, 'help')) {
    out(USAGE);
    return 0;
  }
  const c = COMMANDS[a.cmd];
  if (!c) {
    err(`unknown command '${a.cmd}'\n${USAGE}`);
    return 2;
  }
  try {
    return await c(a, out);
  } catch (e) {
    if (e instanceof UsageError || e instanceof TargetError) {
      err(`conntrack-backport ${a.cmd}: ${e.message}`);
      return 2;
    }
    err(`conntrack-backport ${a.cmd}: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}

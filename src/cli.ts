// Command-line front end over the same core the extension uses, for terminals and CI.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectPath, TargetError } from './core/detect';
import { resolveTarget } from './core/detect/input';
import { indexFunctions } from './core/parse/treesitter';
import type { checkPatchText as CheckPatchText } from './core/patch/applied';
import { joinPatchReports } from './core/patch/join';
import { formatDetection } from './core/report';
import type { SweepProgress } from './core/matrix';

interface Args {
  cmd: string;
  positional: string[];
  flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(['json', 'csv', 'no-history', 'plan', 'apply', 'exhaustive', 'help', 'markdown', 'progress']);

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
      const [k, v] = a.slice(2).split('=', 2);
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
  sweep [--refs PATTERN]... [--path P] [--no-history] [--json|--csv|--markdown] [--progress] <repo>
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

async function cmdSweep(a: Args, out: Out): Promise<number> {
  const { exportMatrix, sweep } = await import('./core/matrix');
  const repo = a.positional[0];
  if (!repo) throw new UsageError('sweep needs a repository');
  if (!fs.existsSync(repo)) throw new UsageError(`${repo}: no such directory`);
  const refs = a.flags.get('refs') ?? [];
  const bad = refs.find((r) => r.startsWith('-'));
  if (bad) throw new UsageError(`refusing a ref pattern that starts with '-': ${bad}`);
  const progress = has(a, 'progress') ? (p: SweepProgress): void => void process.stderr.write(`\r${p.phase}: ${p.message}`.padEnd(60)) : undefined;
  const m = await sweep(repo, { refs, path: a.flags.get('path')?.[0], history: !has(a, 'no-history'), onProgress: progress });
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
    else out([verdict.summary, ...verdict.sentences.map((s: string) => `  ${s}`)].join('\n'));
  } catch (e) {
    if (e instanceof ConntrackStatsError) throw new UsageError(e.message);
    throw e;
  }
  return 0;
}

export const COMMANDS: Record<string, Command> = {
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

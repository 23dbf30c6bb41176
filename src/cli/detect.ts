// `detect`: which nf_conntrack race fixes a tree (or one nf_conntrack_core.c) carries.

import { detectPath } from '../core/detect';
import * as fs from 'node:fs';
import { formatDetection, type LineReader } from '../core/report';
import { isSettled, type DetectionResult } from '../core/types';
import type { RefTree } from './atRef';
import type { PatchTarget } from './checkPatch';
import { Command, EXIT, flag, Io, list, str, UsageError } from './command';

// --ref, stdin and --patch load their code (git's cat-file, the patch parser) only when used:
// a plain `detect <path>` is the cold-start path (bench/detectCold.bench.ts).
const atRef = (): Promise<typeof import('./atRef')> => import('./atRef');

/** Exit code of an analysed detection: 3 when the file was not nf_conntrack_core.c; 1 under the gate unless every race is fixed. */
export function detectionExit(r: DetectionResult, io: Io, failOnMissing: boolean): number {
  if (!r.kernelFile) {
    io.err(`conntrack-backport detect: ${r.file}: not analysable: ${r.reason ?? 'not nf_conntrack_core.c'}`);
    return EXIT.input;
  }
  if (!failOnMissing) return EXIT.ok;
  const notFixed = Object.entries(r.races).filter(([, v]) => !isSettled(v.verdict));
  if (!notFixed.length) return EXIT.ok;
  io.err(`conntrack-backport detect: not fixed: ${notFixed.map(([k, v]) => `${k} ${v.verdict}`).join(', ')}`);
  return EXIT.gate;
}

export const detect: Command = {
  name: 'detect',
  summary: 'Which nf_conntrack race fixes the tree carries, with evidence (file, function, lines, site, layer).',
  synopsis: [
    '[--json | --markdown] [--no-history] [--patch FILE]... [--fail-on-missing] <kernel-tree | nf_conntrack_core.c | ->',
    '[--json | --markdown] [--no-history] [--patch FILE]... [--fail-on-missing] --ref REF <repository>',
  ],
  options: {
    json: { type: 'boolean', help: 'the detection result as JSON' },
    markdown: { type: 'boolean', help: 'a Markdown report' },
    'no-history': { type: 'boolean', help: 'source layer only: do not read git history' },
    patch: { type: 'string', multiple: true, value: 'FILE', help: 'also check this patch/mbox against the tree and join the result' },
    'fail-on-missing': { type: 'boolean', help: 'exit 1 unless every race is fixed (a CI gate)' },
    ref: { type: 'string', value: 'REF', help: 'read the tree at REF of a bare or normal repository (git cat-file, no checkout)' },
  },
  positionals: { min: 1, max: 1, names: 'a kernel tree, nf_conntrack_core.c, a repository with --ref, or - (stdin)' },
  conflicts: [['json', 'markdown']],
  async run(a, io) {
    const target = a.positionals[0];
    const ref = str(a, 'ref');
    const history = !flag(a, 'no-history');
    if (target === '-' && ref) throw new UsageError('--ref reads a repository, not stdin');
    if (target === '-' && list(a, 'patch').includes('-')) throw new UsageError('stdin can be read once: the tree or a --patch, not both');
    const refTree: RefTree | undefined = ref ? await (await atRef()).openRefTree(target, ref) : undefined;
    try {
      let where: PatchTarget = target;
      let result: DetectionResult;
      if (refTree) result = await (await atRef()).detectAtRef(refTree, { history });
      else if (target === '-') {
        const buf = io.stdin();
        where = { stdin: buf.toString('latin1') };
        result = await (await atRef()).detectStdin(buf);
      } else result = await detectPath(target, { history });
      if (refTree) where = refTree;
      const patches = [];
      if (result.kernelFile && list(a, 'patch').length) {
        const { checkPatchAgainst } = await import('./checkPatch');
        const { joinPatchReports } = await import('../core/patch/join');
        for (const p of list(a, 'patch')) {
          const reports = await checkPatchAgainst(p, where, io);
          joinPatchReports(result, p, reports);
          patches.push({ patch: p, reports });
        }
      }
      if (flag(a, 'json')) io.out(JSON.stringify(patches.length ? { ...result, patches } : result, null, 2));
      else if (result.kernelFile) {
        // Matched code is quoted from the files on disk (not for --ref or stdin: disk is another tree).
        const readLines: LineReader | undefined =
          refTree || target === '-' ? undefined : (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'latin1').split('\n') : undefined);
        io.out(formatDetection(result, flag(a, 'markdown') ? 'markdown' : 'text', { readLines }));
      }
      return detectionExit(result, io, flag(a, 'fail-on-missing'));
    } finally {
      refTree?.close();
    }
  },
};

// `check-patch`: is this patch (or every patch of an mbox) applied in the tree? Per hunk.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveTarget } from '../core/detect/input';
import type { PatchReport } from '../core/patch/applied';
import { parsePatchFile } from '../core/patch/mbox';
import { openRefTree, RefTree } from './atRef';
import { Command, EXIT, flag, InputError, Io, readTextInput, str, UsageError } from './command';

/** Where the patched files are read: a path (tree or loose file), a repository at a ref, or stdin's text. */
export type PatchTarget = string | RefTree | { stdin: string };

const stripPrefix = (p: string | undefined): string => (p ?? '').replace(/^[ab]\//, '').replace(/\t.*$/, '');

/** Reads the patch, refuses one without a diff (exit 3), and checks it against the target. */
export async function checkPatchAgainst(patchFile: string, target: PatchTarget, io: Io): Promise<PatchReport[]> {
  const { checkPatchText } = await import('../core/patch/applied');
  const patchText = readTextInput(patchFile, io, 'a patch or mbox');
  const msgs = parsePatchFile(patchText);
  if (!msgs.length) throw new InputError(`${patchFile === '-' ? 'stdin' : patchFile}: no diff found (not a patch or mbox)`);
  const paths = [
    ...new Set(
      msgs.flatMap((m) => m.files.map((f) => stripPrefix(f.newFileName && f.newFileName !== '/dev/null' ? f.newFileName : f.oldFileName))),
    ),
  ];
  if (typeof target === 'object' && 'stdin' in target) {
    // One file on stdin stands for nf_conntrack_core.c, or for the only file the patch touches.
    const text = target.stdin;
    return checkPatchText(patchText, (p) => (path.basename(p) === 'nf_conntrack_core.c' || paths.length === 1 ? text : null));
  }
  if (typeof target === 'object') {
    const blobs = new Map<string, string | null>();
    for (const p of paths) blobs.set(p, (await target.read(p))?.toString('latin1') ?? null);
    return checkPatchText(patchText, (p) => blobs.get(p) ?? null);
  }
  const t = resolveTarget(target);
  if (!t.ok) throw new InputError(t.reason);
  const root = t.treeRoot;
  return checkPatchText(patchText, (p) => {
    const candidates = root ? [path.join(root, p)] : [t.file];
    for (const c of candidates)
      if (fs.existsSync(c) && (root || path.basename(c) === path.basename(p))) return fs.readFileSync(c, 'latin1');
    return null;
  });
}

export const checkPatch: Command = {
  name: 'check-patch',
  summary: 'Is this patch applied here? Per hunk, robust to offsets and moved functions.',
  synopsis: [
    '[--json] [--fail-on-missing] <patch-or-mbox | -> <kernel-tree | file | ->',
    '[--json] [--fail-on-missing] --ref REF <patch-or-mbox | -> <repository>',
  ],
  options: {
    json: { type: 'boolean', help: 'the per-patch, per-hunk reports as JSON' },
    'fail-on-missing': { type: 'boolean', help: 'exit 1 unless every patch is fully applied (a CI gate)' },
    ref: { type: 'string', value: 'REF', help: 'read the files at REF of a bare or normal repository (git cat-file, no checkout)' },
  },
  positionals: { min: 2, max: 2, names: 'a patch file (or - for stdin) and a kernel tree, a file, or a repository with --ref' },
  async run(a, io) {
    const [patch, target] = a.positionals;
    if (patch === '-' && target === '-') throw new UsageError('stdin can be read once: the patch or the file, not both');
    const ref = str(a, 'ref');
    if (ref && target === '-') throw new UsageError('--ref reads a repository, not stdin');
    const refTree = ref ? await openRefTree(target, ref) : undefined;
    let reports: PatchReport[];
    try {
      reports = await checkPatchAgainst(patch, refTree ?? (target === '-' ? { stdin: io.stdin().toString('latin1') } : target), io);
    } finally {
      refTree?.close();
    }
    if (flag(a, 'json')) io.out(JSON.stringify(reports, null, 2));
    else
      for (const r of reports) {
        io.out(`${r.subject || '(no subject)'}: ${r.overall} — ${r.explain}`);
        for (const f of r.files) {
          if (!f.present) io.out(`  ${f.path}: not in this tree`);
          for (const h of f.hunks)
            io.out(
              `  ${f.path} hunk ${h.index}${h.function ? ` (${h.function})` : ''}: ${h.state}${h.line ? ` near line ${h.line}` : ''} — ${h.reason}`,
            );
        }
      }
    if (flag(a, 'fail-on-missing') && reports.some((r) => r.overall !== 'applied')) {
      io.err(
        `conntrack-backport check-patch: not applied: ${reports
          .filter((r) => r.overall !== 'applied')
          .map((r) => `${r.subject || '(no subject)'} (${r.overall})`)
          .join(', ')}`,
      );
      return EXIT.gate;
    }
    return EXIT.ok;
  },
};

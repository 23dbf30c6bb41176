// `check-patch`: is this patch (or every patch of an mbox) applied in the tree? Per hunk.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveTarget } from '../core/detect/input';
import type { PatchReport } from '../core/patch/applied';
import { parsePatchFile } from '../core/patch/mbox';
import { Command, EXIT, flag, InputError, Io, readTextInput } from './command';

/** Reads the patch, refuses one without a diff (exit 3), and checks it against the target. */
export async function checkPatchAgainst(patchFile: string, target: string, io: Io): Promise<PatchReport[]> {
  const { checkPatchText } = await import('../core/patch/applied');
  const patchText = readTextInput(patchFile, io, 'a patch or mbox');
  if (!parsePatchFile(patchText).length) throw new InputError(`${patchFile === '-' ? 'stdin' : patchFile}: no diff found (not a patch or mbox)`);
  const t = resolveTarget(target);
  if (!t.ok) throw new InputError(t.reason);
  const root = t.treeRoot;
  return checkPatchText(patchText, (p) => {
    const candidates = root ? [path.join(root, p)] : [t.file];
    for (const c of candidates) if (fs.existsSync(c) && (root || path.basename(c) === path.basename(p))) return fs.readFileSync(c, 'latin1');
    return null;
  });
}

export const checkPatch: Command = {
  name: 'check-patch',
  summary: 'Is this patch applied here? Per hunk, robust to offsets and moved functions.',
  synopsis: ['[--json] [--fail-on-missing] <patch-or-mbox | -> <kernel-tree | file>'],
  options: {
    json: { type: 'boolean', help: 'the per-patch, per-hunk reports as JSON' },
    'fail-on-missing': { type: 'boolean', help: 'exit 1 unless every patch is fully applied (a CI gate)' },
  },
  positionals: { min: 2, max: 2, names: 'a patch file (or - for stdin) and a kernel tree or file' },
  async run(a, io) {
    const [patch, target] = a.positionals;
    const reports = await checkPatchAgainst(patch, target, io);
    if (flag(a, 'json')) io.out(JSON.stringify(reports, null, 2));
    else
      for (const r of reports) {
        io.out(`${r.subject || '(no subject)'}: ${r.overall} — ${r.explain}`);
        for (const f of r.files) {
          if (!f.present) io.out(`  ${f.path}: not in this tree`);
          for (const h of f.hunks) io.out(`  ${f.path} hunk ${h.index}${h.function ? ` (${h.function})` : ''}: ${h.state}${h.line ? ` near line ${h.line}` : ''} — ${h.reason}`);
        }
      }
    if (flag(a, 'fail-on-missing') && reports.some((r) => r.overall !== 'applied')) {
      io.err(`conntrack-backport check-patch: not applied: ${reports.filter((r) => r.overall !== 'applied').map((r) => `${r.subject || '(no subject)'} (${r.overall})`).join(', ')}`);
      return EXIT.gate;
    }
    return EXIT.ok;
  },
};

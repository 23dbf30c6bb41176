// `sweep`: which branches and tags carry which fix, where each fix entered and where it was lost.

import * as fs from 'node:fs';
import { CATALOGUE } from '../core/catalogue';
import { gitText } from '../core/git/run';
import type { SweepProgress } from '../core/matrix';
import { Command, flag, InputError, list, str, UsageError } from './command';

export const sweep: Command = {
  name: 'sweep',
  summary: 'Which branches and tags carry which fix, where each fix entered and where it was lost.',
  synopsis: ['[--refs PATTERN]... [--path P] [--override ID=SHA]... [--no-history] [--json | --csv | --markdown] [--progress] <repo>'],
  options: {
    refs: { type: 'string', multiple: true, value: 'PATTERN', help: 'glob on the short or full ref name (v4.19.*, Ubuntu-*, refs/remotes/origin/*) or branches, tags, remotes, all (default: branches and tags)' },
    path: { type: 'string', value: 'P', help: 'path of nf_conntrack_core.c in the repository' },
    override: { type: 'string', multiple: true, value: 'ID=SHA', help: 'upstream id for the patch-id layer when the repository has its own copies (mirrors)' },
    'no-history': { type: 'boolean', help: 'source layer only at each ref' },
    json: { type: 'boolean', help: 'the matrix as JSON' },
    csv: { type: 'boolean', help: 'the matrix as CSV' },
    markdown: { type: 'boolean', help: 'the matrix as a Markdown table (the default)' },
    progress: { type: 'boolean', help: 'progress on stderr' },
  },
  positionals: { min: 1, max: 1, names: 'a git repository (bare or not)' },
  conflicts: [['json', 'csv', 'markdown']],
  async run(a, io) {
    const { exportMatrix, sweep: runSweep } = await import('../core/matrix');
    const repo = a.positionals[0];
    if (!fs.existsSync(repo)) throw new InputError(`${repo}: no such directory`);
    if (!fs.statSync(repo).isDirectory()) throw new InputError(`${repo} is not a directory (sweep reads a git repository)`);
    try {
      await gitText(repo, ['rev-parse', '--git-dir']);
    } catch {
      throw new InputError(`${repo} is not a git repository`);
    }
    const refs = list(a, 'refs');
    const bad = refs.find((r) => r.startsWith('-'));
    if (bad) throw new UsageError(`refusing a ref pattern that starts with '-': ${bad}`);
    const progress = flag(a, 'progress') ? (p: SweepProgress): void => void process.stderr.write(`\r${p.phase}: ${p.message}`.padEnd(60)) : undefined;
    const overrides: Record<string, string> = {};
    for (const o of list(a, 'override')) {
      const m = /^([\w-]+)=([0-9a-fA-F]{7,40})$/.exec(o);
      if (!m || !CATALOGUE.some((e) => e.id === m[1])) throw new UsageError(`--override wants ID=SHA with a catalogue id (${CATALOGUE.map((e) => e.id).join(', ')}): ${o}`);
      overrides[m[1]] = m[2];
    }
    const m = await runSweep(repo, { refs, path: str(a, 'path'), overrides, history: !flag(a, 'no-history'), onProgress: progress });
    if (progress) process.stderr.write('\n');
    io.out(exportMatrix(m, flag(a, 'json') ? 'json' : flag(a, 'csv') ? 'csv' : 'markdown').trimEnd());
    return 0;
  },
};

// `sweep`: which branches and tags carry which fix, where each fix entered and where it was lost.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CATALOGUE } from '../core/catalogue';
import { gitText } from '../core/git/run';
import type { SweepProgress } from '../core/matrix';
import { Command, flag, InputError, list, str, UsageError } from './command';

export const sweep: Command = {
  name: 'sweep',
  summary: 'Which branches and tags carry which fix, where each fix entered and where it was lost.',
  synopsis: [
    '[--refs PATTERN]... [--path P] [--override ID=SHA]... [--no-history] [--json | --csv | --markdown] [--no-progress] [--no-keep | --keep-dir DIR] <repo>',
    '--prune-cache [--keep-dir DIR] [--cache-max-mb N]',
  ],
  options: {
    refs: {
      type: 'string',
      multiple: true,
      value: 'PATTERN',
      help: 'glob on the short or full ref name (v4.19.*, Ubuntu-*, refs/remotes/origin/*) or branches, tags, remotes, all (default: branches and tags)',
    },
    path: { type: 'string', value: 'P', help: 'path of nf_conntrack_core.c in the repository' },
    override: {
      type: 'string',
      multiple: true,
      value: 'ID=SHA',
      help: 'upstream id for the patch-id layer when the repository has its own copies (mirrors)',
    },
    'no-history': { type: 'boolean', help: 'source layer only at each ref' },
    json: { type: 'boolean', help: 'the matrix as JSON' },
    csv: { type: 'boolean', help: 'the matrix as CSV' },
    markdown: { type: 'boolean', help: 'the matrix as a Markdown table (the default)' },
    progress: { type: 'boolean', help: 'a progress line with refs/s on stderr (the default when stderr is a terminal; never otherwise)' },
    'no-progress': { type: 'boolean', help: 'no progress line' },
    'no-keep': {
      type: 'boolean',
      help: 'neither reuse nor keep a sweep (by default the sweep is kept and the next one only pays for refs that moved)',
    },
    'keep-dir': {
      type: 'string',
      value: 'DIR',
      help: 'where kept sweeps live (default $CONNTRACK_BACKPORT_CACHE, else $XDG_CACHE_HOME or ~/.cache, /conntrack-backport/sweeps)',
    },
    'cache-max-mb': {
      type: 'string',
      value: 'N',
      help: 'size bound of the kept sweeps (default 256; oldest go first); with --prune-cache, what may stay (default 0: all go)',
    },
    'prune-cache': { type: 'boolean', help: 'remove kept sweeps (all of them, or down to --cache-max-mb) and exit' },
  },
  positionals: { min: 0, max: 1, names: 'a git repository (bare or not)' },
  conflicts: [
    ['json', 'csv', 'markdown'],
    ['no-keep', 'keep-dir'],
    ['progress', 'no-progress'],
  ],
  notes: [
    'History comes from one path-limited walk; git answers it several times faster from a commit-graph with changed-path Bloom filters (`git commit-graph write --reachable --changed-paths`): the sweep says so on stderr when there is none.',
  ],
  async run(a, io) {
    const { exportMatrix, sweep: runSweep } = await import('../core/matrix');
    const { KEPT_MAX_BYTES, KEPT_MAX_FILES, pruneKept } = await import('../core/matrix/kept');
    const keepDir = str(a, 'keep-dir') ?? defaultKeepDir();
    const maxMbText = str(a, 'cache-max-mb');
    const maxMb = maxMbText === undefined ? undefined : Number(maxMbText);
    if (maxMb !== undefined && !(Number.isFinite(maxMb) && maxMb >= 0))
      throw new UsageError(`--cache-max-mb wants a number of MB >= 0: ${maxMbText}`);
    if (flag(a, 'prune-cache')) {
      if (a.positionals.length) throw new UsageError('--prune-cache takes no repository');
      const r = pruneKept(keepDir, { maxBytes: (maxMb ?? 0) * 1024 * 1024, maxFiles: maxMb ? KEPT_MAX_FILES : 0 });
      io.out(
        `${keepDir}: removed ${r.removed} kept sweep(s) (${(r.bytesRemoved / 1048576).toFixed(1)} MB), ${r.kept} left (${(r.bytesKept / 1048576).toFixed(1)} MB)`,
      );
      return 0;
    }
    const repo = a.positionals[0];
    if (!repo) throw new UsageError('sweep needs a repository');
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
    // A progress line only where someone watches it: a terminal, rewritten in place.
    const tty = process.stderr.isTTY === true && !flag(a, 'no-progress');
    let lastDraw = 0;
    const progress = tty
      ? (p: SweepProgress): void => {
          const now = Date.now();
          if (now - lastDraw < 100 && p.message !== 'done') return;
          lastDraw = now;
          const rate = p.refsPerSecond ? `, ${p.refsPerSecond.toFixed(0)} refs/s` : '';
          const refs = p.refs ? ` ${p.refsDone ?? 0}/${p.refs} refs${rate}` : '';
          const line = `${p.phase}:${refs} - ${p.message}`;
          const width = process.stderr.columns || 100;
          process.stderr.write(`\r${line.slice(0, width - 1).padEnd(width - 1)}`);
        }
      : undefined;
    const overrides: Record<string, string> = {};
    for (const o of list(a, 'override')) {
      const m = /^([\w-]+)=([0-9a-fA-F]{7,40})$/.exec(o);
      if (!m || !CATALOGUE.some((e) => e.id === m[1]))
        throw new UsageError(`--override wants ID=SHA with a catalogue id (${CATALOGUE.map((e) => e.id).join(', ')}): ${o}`);
      overrides[m[1]] = m[2];
    }
    const keep = flag(a, 'no-keep')
      ? undefined
      : { dir: keepDir, maxBytes: maxMb === undefined ? KEPT_MAX_BYTES : maxMb * 1024 * 1024, maxFiles: KEPT_MAX_FILES };
    const m = await runSweep(repo, { refs, path: str(a, 'path'), overrides, history: !flag(a, 'no-history'), onProgress: progress, keep });
    if (progress) process.stderr.write('\n');
    for (const h of m.hints ?? []) io.err(`hint: ${h}`);
    io.out(exportMatrix(m, flag(a, 'json') ? 'json' : flag(a, 'csv') ? 'csv' : 'markdown').trimEnd());
    return 0;
  },
};

/** $CONNTRACK_BACKPORT_CACHE, else the XDG cache (or ~/.cache), /conntrack-backport/sweeps. */
export function defaultKeepDir(): string {
  if (process.env.CONNTRACK_BACKPORT_CACHE) return path.join(process.env.CONNTRACK_BACKPORT_CACHE, 'sweeps');
  const base =
    process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME)
      ? process.env.XDG_CACHE_HOME
      : path.join(os.homedir(), '.cache');
  return path.join(base, 'conntrack-backport', 'sweeps');
}

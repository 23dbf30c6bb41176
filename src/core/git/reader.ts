// The read side of git, behind a small interface so the history layer can be tested with real
// temporary repositories and the planner with plain data. Arguments are always passed as an
// argv array (never through a shell).

import { gitText, RunOptions } from './run';

export interface CommitRecord {
  sha: string;
  subject: string;
  body: string;
  author: string;
  date: string;
}

export interface GitReader {
  /** Top of the work tree containing `dir`, or null when it is not in a git checkout. */
  root(): Promise<string | null>;
  /** Commits reachable from `ref` (default HEAD) that touch any of `paths`, newest first. */
  logPaths(paths: string[], opts?: { ref?: string; max?: number }): Promise<CommitRecord[]>;
  /** Does `sha` name a commit in this repository? */
  hasCommit(sha: string): Promise<boolean>;
  /** Stable patch-id of a commit, limited to `paths` when given. */
  patchId(sha: string, paths?: string[]): Promise<string | null>;
  /** File content at a ref, or null when absent there. */
  show(ref: string, path: string): Promise<string | null>;
}

const SEP = '\x1e';
const FIELD = '\x1f';
/** `git log --format=` of CommitRecord; parse the output with parseLog. */
export const LOG_FORMAT = `${SEP}%H${FIELD}%s${FIELD}%an <%ae>${FIELD}%aI${FIELD}%b`;

export function parseLog(out: string): CommitRecord[] {
  return out
    .split(SEP)
    .filter((c) => c.trim())
    .map((c) => {
      const [sha, subject, author, date, body] = c.split(FIELD);
      return { sha: sha.trim(), subject: subject ?? '', author: author ?? '', date: date ?? '', body: (body ?? '').trim() };
    });
}

/** Paths are relative to the repository top, whatever directory git runs in. */
const top = (paths: string[]): string[] => paths.map((p) => `:(top)${p}`);

export function refusesOption(name: string): void {
  if (name.startsWith('-')) throw new Error(`refusing a git name that starts with '-': ${name}`);
}

export class CliGitReader implements GitReader {
  constructor(readonly dir: string) {}

  /** git in this repository through the port; any non-zero exit is an error. */
  protected raw(args: string[], opts?: RunOptions): Promise<string> {
    return gitText(this.dir, args, opts);
  }

  async root(): Promise<string | null> {
    try {
      return (await this.raw(['rev-parse', '--show-toplevel'])).trim();
    } catch {
      return null;
    }
  }

  async logPaths(paths: string[], opts: { ref?: string; max?: number } = {}): Promise<CommitRecord[]> {
    const ref = opts.ref ?? 'HEAD';
    refusesOption(ref);
    const args = ['log', `--format=${LOG_FORMAT}`];
    if (opts.max) args.push(`--max-count=${opts.max}`);
    args.push(ref, '--', ...top(paths));
    let out: string;
    try {
      out = await this.raw(args);
    } catch {
      return [];
    }
    return parseLog(out);
  }

  async hasCommit(sha: string): Promise<boolean> {
    if (!/^[0-9a-f]{4,40}$/i.test(sha)) return false;
    try {
      const t = (await this.raw(['cat-file', '-t', sha])).trim();
      return t === 'commit';
    } catch {
      return false;
    }
  }

  async patchId(sha: string, paths: string[] = []): Promise<string | null> {
    refusesOption(sha);
    let diff: string;
    try {
      diff = await this.raw(['show', '--format=', '--no-color', sha, '--', ...top(paths)]);
    } catch {
      return null;
    }
    if (!diff.trim()) return null;
    let out: string;
    try {
      out = await this.raw(['patch-id', '--stable'], { input: diff });
    } catch {
      return null;
    }
    return out.trim().split(/\s+/)[0] || null;
  }

  async show(ref: string, path: string): Promise<string | null> {
    refusesOption(ref);
    try {
      return await this.raw(['show', `${ref}:${path}`]);
    } catch {
      return null;
    }
  }
}

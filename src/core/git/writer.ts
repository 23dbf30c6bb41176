// The write side of git, for the backport executor: state checks (dirty, conflicted, an
// operation in progress), refs, fetch by id, revert/cherry-pick/am without committing, commit
// with a prepared message, stash, reset. Every name goes to git as one argv element and names
// that start with '-' are refused, so nothing from a plan can turn into an option.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { CliGitReader, CommitRecord, GitReader, refusesOption } from './reader';
import { gitErrorText } from './run';

export { gitErrorText };

export type InProgressOp = 'rebase' | 'merge' | 'cherry-pick' | 'revert' | 'bisect' | 'am';

export interface TreeStatus {
  /** Branch name, or null when HEAD is detached. */
  branch: string | null;
  head: string | null;
  staged: string[];
  unstaged: string[];
  untracked: string[];
  conflicted: string[];
  /** No staged, unstaged or conflicted change (untracked files do not count). */
  clean: boolean;
}

export interface CommitInfo extends CommitRecord {
  authorName: string;
  authorEmail: string;
  /** Strict ISO author date with its zone, as `git commit --date` takes it. */
  authorDateIso: string;
}

/** Outcome of a step that may stop on conflicts. */
export interface ApplyOutcome {
  ok: boolean;
  conflicted: string[];
  /** git's own words when it failed. */
  message?: string;
}

export interface GitWriter extends GitReader {
  readonly dir: string;
  gitDir(): Promise<string>;
  status(): Promise<TreeStatus>;
  inProgress(): Promise<InProgressOp[]>;
  head(): Promise<string>;
  resolve(ref: string): Promise<string | null>;
  branchExists(name: string): Promise<boolean>;
  /** Create `name` at `start` and switch to it. */
  createBranch(name: string, start: string): Promise<void>;
  checkout(nameOrSha: string): Promise<void>;
  deleteBranch(name: string): Promise<void>;
  updateRef(ref: string, sha: string): Promise<void>;
  deleteRef(ref: string): Promise<void>;
  listRefs(prefix: string): Promise<{ ref: string; sha: string }[]>;
  remoteUrl(remote: string): Promise<string | null>;
  hasCommit(sha: string): Promise<boolean>;
  /** Is `ancestor` reachable from `descendant` (git merge-base --is-ancestor)? */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  fetchCommit(remote: string, sha: string): Promise<void>;
  commitInfo(sha: string): Promise<CommitInfo>;
  changedPaths(sha: string): Promise<string[]>;
  revertNoCommit(sha: string): Promise<ApplyOutcome>;
  cherryPickNoCommit(sha: string): Promise<ApplyOutcome>;
  /** `git am -3` of one message; on conflict the am session stays open. */
  am3(patchFile: string): Promise<ApplyOutcome>;
  amContinue(): Promise<ApplyOutcome>;
  commit(message: string, opts?: { author?: string; date?: string; noVerify?: boolean; amend?: boolean }): Promise<string>;
  abortInProgress(): Promise<void>;
  unmerged(): Promise<string[]>;
  resetHard(ref: string): Promise<void>;
  stashPush(message: string): Promise<string | null>;
  stashList(): Promise<string[]>;
  /** Stash entries, newest first: commit id and subject (`On <branch>: <message>`). */
  stashEntries(): Promise<{ sha: string; subject: string }[]>;
  /** The full message of a commit, as git stores it. */
  commitMessage(sha: string): Promise<string>;
  /** Is this a shallow clone (history cut at a boundary commit)? */
  isShallow(): Promise<boolean>;
  /** Restore a stash by its commit id (index included) and drop it. */
  stashRestore(sha: string): Promise<ApplyOutcome>;
  configGet(key: string): Promise<string | null>;
}

const IN_PROGRESS_MARKERS: [string, InProgressOp][] = [
  ['rebase-merge', 'rebase'],
  ['REBASE_HEAD', 'rebase'],
  ['MERGE_HEAD', 'merge'],
  ['CHERRY_PICK_HEAD', 'cherry-pick'],
  ['REVERT_HEAD', 'revert'],
  ['BISECT_LOG', 'bisect'],
];

export class CliGitWriter extends CliGitReader implements GitWriter {
  private gitDirCache?: string;

  constructor(dir: string) {
    super(dir);
  }

  async gitDir(): Promise<string> {
    if (!this.gitDirCache) this.gitDirCache = path.resolve(this.dir, (await this.raw(['rev-parse', '--git-dir'])).trim());
    return this.gitDirCache;
  }

  async status(): Promise<TreeStatus> {
    const out = await this.raw(['status', '--porcelain=v1', '-z', '--untracked-files=all']);
    const s: TreeStatus = {
      branch: await this.branch(),
      head: await this.resolve('HEAD'),
      staged: [],
      unstaged: [],
      untracked: [],
      conflicted: [],
      clean: true,
    };
    const items = out.split('\0');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (!it) continue;
      const x = it[0];
      const y = it[1];
      const file = it.slice(3);
      if (x === 'R' || x === 'C') i++; // the origin path follows
      if (x === '?') s.untracked.push(file);
      else if (x === '!') continue;
      else if (x === 'U' || y === 'U' || (x === 'A' && y === 'A') || (x === 'D' && y === 'D')) s.conflicted.push(file);
      else {
        if (x !== ' ') s.staged.push(file);
        if (y !== ' ') s.unstaged.push(file);
      }
    }
    s.clean = !s.staged.length && !s.unstaged.length && !s.conflicted.length;
    return s;
  }

  private async branch(): Promise<string | null> {
    try {
      return (await this.raw(['symbolic-ref', '--quiet', '--short', 'HEAD'])).trim() || null;
    } catch {
      return null;
    }
  }

  async inProgress(): Promise<InProgressOp[]> {
    const dir = await this.gitDir();
    const ops = new Set<InProgressOp>();
    for (const [name, op] of IN_PROGRESS_MARKERS) if (fs.existsSync(path.join(dir, name))) ops.add(op);
    const apply = path.join(dir, 'rebase-apply');
    if (fs.existsSync(apply)) ops.add(fs.existsSync(path.join(apply, 'applying')) ? 'am' : 'rebase');
    // A multi-commit cherry-pick/revert leaves only the sequencer folder between picks.
    if (fs.existsSync(path.join(dir, 'sequencer', 'todo')) && !ops.has('revert')) ops.add('cherry-pick');
    return [...ops];
  }

  async head(): Promise<string> {
    return (await this.raw(['rev-parse', '--verify', 'HEAD'])).trim();
  }

  async resolve(ref: string): Promise<string | null> {
    refusesOption(ref);
    try {
      return (await this.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    refusesOption(ancestor);
    refusesOption(descendant);
    try {
      await this.raw(['merge-base', '--is-ancestor', ancestor, descendant]);
      return true;
    } catch {
      return false;
    }
  }

  async branchExists(name: string): Promise<boolean> {
    refusesOption(name);
    return (await this.resolve(`refs/heads/${name}`)) !== null;
  }

  async createBranch(name: string, start: string): Promise<void> {
    refusesOption(name);
    refusesOption(start);
    await this.raw(['check-ref-format', '--branch', name]);
    await this.raw(['checkout', '--quiet', '-b', name, start]);
  }

  async checkout(nameOrSha: string): Promise<void> {
    refusesOption(nameOrSha);
    await this.raw(['checkout', '--quiet', nameOrSha, '--']);
  }

  async deleteBranch(name: string): Promise<void> {
    refusesOption(name);
    await this.raw(['branch', '--quiet', '-D', name]);
  }

  async updateRef(ref: string, sha: string): Promise<void> {
    refusesOption(ref);
    refusesOption(sha);
    await this.raw(['update-ref', '-m', 'conntrack-backport', ref, sha]);
  }

  async deleteRef(ref: string): Promise<void> {
    refusesOption(ref);
    await this.raw(['update-ref', '-d', ref]);
  }

  async listRefs(prefix: string): Promise<{ ref: string; sha: string }[]> {
    refusesOption(prefix);
    const out = await this.raw(['for-each-ref', '--format=%(refname) %(objectname)', prefix]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [ref, sha] = l.split(' ');
        return { ref, sha };
      });
  }

  async remoteUrl(remote: string): Promise<string | null> {
    refusesOption(remote);
    try {
      return (await this.raw(['remote', 'get-url', remote])).trim() || null;
    } catch {
      return null;
    }
  }

  async fetchCommit(remote: string, sha: string): Promise<void> {
    refusesOption(remote);
    refusesOption(sha);
    await this.raw(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', remote, sha]);
  }

  async commitInfo(sha: string): Promise<CommitInfo> {
    refusesOption(sha);
    const out = await this.raw(['show', '-s', '--format=%H%x1f%s%x1f%an%x1f%ae%x1f%aI%x1f%B', sha]);
    const [full, subject, authorName, authorEmail, authorDateIso, ...rest] = out.split('\x1f');
    const message = rest.join('\x1f').replace(/\n+$/, '');
    const body = message.split('\n').slice(1).join('\n').trim();
    return {
      sha: full.trim(),
      subject,
      body,
      author: `${authorName} <${authorEmail}>`,
      date: authorDateIso,
      authorName,
      authorEmail,
      authorDateIso,
    };
  }

  async changedPaths(sha: string): Promise<string[]> {
    refusesOption(sha);
    const out = await this.raw(['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', '--root', sha]);
    return out.split('\0').filter(Boolean);
  }

  private async applying(args: string[]): Promise<ApplyOutcome> {
    try {
      await this.raw(args);
      return { ok: true, conflicted: [] };
    } catch (e) {
      return { ok: false, conflicted: await this.unmerged(), message: gitErrorText(e) };
    }
  }

  async revertNoCommit(sha: string): Promise<ApplyOutcome> {
    refusesOption(sha);
    return this.applying(['revert', '--no-commit', sha]);
  }

  async cherryPickNoCommit(sha: string): Promise<ApplyOutcome> {
    refusesOption(sha);
    return this.applying(['cherry-pick', '--no-commit', sha]);
  }

  async am3(patchFile: string): Promise<ApplyOutcome> {
    refusesOption(patchFile);
    return this.applying(['am', '-3', '--quiet', '--', path.resolve(patchFile)]);
  }

  async amContinue(): Promise<ApplyOutcome> {
    return this.applying(['am', '--continue']);
  }

  async commit(message: string, opts: { author?: string; date?: string; noVerify?: boolean; amend?: boolean } = {}): Promise<string> {
    // The message goes through a file in the git dir: no shell, no argv length limit, and
    // `--cleanup=whitespace` keeps lines starting with '#' (kernel messages quote #includes).
    const dir = path.join(await this.gitDir(), 'conntrack-backport');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'COMMIT_MSG');
    fs.writeFileSync(file, message.endsWith('\n') ? message : message + '\n');
    const args = ['commit', '--quiet', '--cleanup=whitespace', '-F', file];
    if (opts.amend) args.push('--amend');
    if (opts.author) args.push(`--author=${opts.author}`);
    if (opts.date) args.push(`--date=${opts.date}`);
    if (opts.noVerify) args.push('--no-verify');
    try {
      await this.raw(args);
    } finally {
      fs.rmSync(file, { force: true });
    }
    return this.head();
  }

  async abortInProgress(): Promise<void> {
    const ops = await this.inProgress();
    const tries: Record<InProgressOp, string[]> = {
      'cherry-pick': ['cherry-pick', '--abort'],
      revert: ['revert', '--abort'],
      am: ['am', '--abort'],
      merge: ['merge', '--abort'],
      rebase: ['rebase', '--abort'],
      bisect: ['bisect', 'reset'],
    };
    for (const op of ops) {
      try {
        await this.raw(tries[op]);
      } catch {
        /* the reset that follows cleans up what the abort could not */
      }
    }
  }

  async unmerged(): Promise<string[]> {
    try {
      const out = await this.raw(['diff', '--name-only', '--diff-filter=U', '-z']);
      return [...new Set(out.split('\0').filter(Boolean))];
    } catch {
      return [];
    }
  }

  async resetHard(ref: string): Promise<void> {
    refusesOption(ref);
    await this.raw(['reset', '--quiet', '--hard', ref]);
  }

  async stashPush(message: string): Promise<string | null> {
    const before = await this.resolve('refs/stash');
    await this.raw(['stash', 'push', '--quiet', '--include-untracked', '-m', message]);
    const after = await this.resolve('refs/stash');
    return after && after !== before ? after : null;
  }

  async stashList(): Promise<string[]> {
    const out = await this.raw(['stash', 'list', '--format=%H']);
    return out.split('\n').filter(Boolean);
  }

  async stashEntries(): Promise<{ sha: string; subject: string }[]> {
    const out = await this.raw(['stash', 'list', '--format=%H %s']);
    return out
      .split('\n')
      .filter(Boolean)
      .map((l: string) => ({ sha: l.slice(0, l.indexOf(' ')), subject: l.slice(l.indexOf(' ') + 1) }));
  }

  async commitMessage(sha: string): Promise<string> {
    refusesOption(sha);
    return this.raw(['show', '-s', '--format=%B', sha]);
  }

  async isShallow(): Promise<boolean> {
    return (await this.raw(['rev-parse', '--is-shallow-repository'])).trim() === 'true';
  }

  async stashRestore(sha: string): Promise<ApplyOutcome> {
    refusesOption(sha);
    const list = await this.stashList();
    const idx = list.indexOf(sha);
    if (idx >= 0) return this.applying(['stash', 'pop', '--quiet', '--index', `stash@{${idx}}`]);
    return this.applying(['stash', 'apply', '--quiet', '--index', sha]);
  }

  async configGet(key: string): Promise<string | null> {
    refusesOption(key);
    try {
      return (await this.raw(['config', '--get', key])).trim() || null;
    } catch {
      return null;
    }
  }
}

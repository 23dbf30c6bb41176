// Reading a kernel where it lives: a bare or normal repository at a ref, through the git port
// (`git cat-file --batch`, no checkout, nothing in the repository changes), or stdin (`-`).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyContext, CORE_REL_PATH, detectBuffer, NAT_REL_PATH } from '../core/detect';
import { decodeSource } from '../core/detect/input';
import { scanNatCore } from '../core/detect/nat';
import { CatFileBatch } from '../core/git/catfile';
import type { GitReader } from '../core/git/reader';
import { gitText } from '../core/git/run';
import type { DetectionResult } from '../core/types';
import { InputError, UsageError } from './command';

export interface RefTree {
  repo: string;
  ref: string;
  commit: string;
  /** Blob content at the ref, or null when the path is not there. */
  read(rel: string): Promise<Buffer | null>;
  close(): void;
}

/** Opens `repo` at `ref`; exit 3 when it is not a repository or the ref does not name a commit. */
export async function openRefTree(repo: string, ref: string): Promise<RefTree> {
  if (ref.startsWith('-')) throw new UsageError(`refusing a ref that starts with '-': ${ref}`);
  if (/[\n\r]/.test(ref)) throw new UsageError('a ref name has no newline');
  let st: fs.Stats;
  try {
    st = fs.statSync(repo);
  } catch {
    throw new InputError(`${repo}: no such directory`);
  }
  if (!st.isDirectory()) throw new UsageError(`--ref reads a repository (a directory), and ${repo} is a file`);
  try {
    await gitText(repo, ['rev-parse', '--git-dir']);
  } catch {
    throw new InputError(`${repo} is not a git repository (--ref reads a bare or normal repository)`);
  }
  let commit: string;
  try {
    commit = (await gitText(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])).trim();
  } catch {
    throw new InputError(`${repo}: no commit named '${ref}'`);
  }
  const batch = new CatFileBatch(repo);
  return {
    repo,
    ref,
    commit,
    async read(rel) {
      const o = await batch.read(`${commit}:${rel}`);
      return o && o.type === 'blob' ? o.content : null;
    },
    close: () => batch.close(),
  };
}

/** The history layer's reader over a repository that may be bare (no work tree to find a top of). */
async function refReader(repo: string): Promise<GitReader> {
  const { CliGitReader } = await import('../core/git/reader');
  return new (class extends CliGitReader {
    async root(): Promise<string | null> {
      return path.resolve(repo);
    }
  })(repo);
}

/** Detection of nf_conntrack_core.c at a ref, with nf_nat_core.c and the history up to that ref. */
export async function detectAtRef(t: RefTree, opts: { history: boolean }): Promise<DetectionResult> {
  const label = `${t.ref}:${CORE_REL_PATH}`;
  const core = await t.read(CORE_REL_PATH);
  if (!core) throw new InputError(`${t.repo}: no ${CORE_REL_PATH} at ${t.ref} (${t.commit.slice(0, 12)})`);
  const result = await detectBuffer(core, label);
  if (!result.kernelFile) return result;
  const nat = await t.read(NAT_REL_PATH);
  const natDec = nat ? decodeSource(nat) : undefined;
  const related = natDec?.ok
    ? [{ file: `${t.ref}:${NAT_REL_PATH}`, findings: scanNatCore(natDec.text, `${t.ref}:${NAT_REL_PATH}`) }]
    : undefined;
  let history;
  if (opts.history) {
    const { analyzeHistory } = await import('../core/history/analyze');
    history = await analyzeHistory(await refReader(t.repo), nat ? [CORE_REL_PATH, NAT_REL_PATH] : [CORE_REL_PATH], { ref: t.commit });
  }
  return applyContext(result, { related, history });
}

/** `detect -`: nf_conntrack_core.c on stdin; source layer only (there is no history to read). */
export async function detectStdin(buf: Buffer): Promise<DetectionResult> {
  return detectBuffer(buf, '<stdin>');
}

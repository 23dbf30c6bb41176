// The preview: run the plan in a throw-away repository that borrows the user's objects
// (alternates) and checks out only the files the plan touches (sparse), then diff the result
// against HEAD with jsdiff. The user's work tree, index, refs and config are not touched;
// fetching the upstream commits adds objects only.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { gitText } from '../git/run';
import { GitWriter, CliGitWriter } from '../git/writer';
import type { BackportPlan } from './plan';
import { resolvePlan, ResolvedPlan, revertsNewestFirst, writePatchForAm } from './resolve';

export interface PredictedFile {
  path: string;
  /** null when the file does not exist on that side. */
  before: string | null;
  after: string | null;
  /** Unified diff (jsdiff createTwoFilesPatch). */
  patch: string;
}

export interface PredictedDiff {
  head: string;
  files: PredictedFile[];
  /** Commit messages exactly as they will be written, in step order. */
  messages: string[];
  /** The first step that would conflict; files then show the state before it. */
  conflict?: { step: number; subject: string; files: string[] };
  resolved: ResolvedPlan;
}

const run = gitText;

export async function predictDiff(
  repo: string,
  plan: BackportPlan,
  opts: { git?: GitWriter; fetch?: boolean } = {},
): Promise<PredictedDiff> {
  const git = opts.git ?? new CliGitWriter(repo);
  const top = (await git.root()) ?? repo;
  const head = await git.head();
  const resolved = await resolvePlan(plan, git, { fetch: opts.fetch ?? true });
  const messages = resolved.steps.map((s) => s.message);
  const paths = [...new Set(resolved.steps.flatMap((s) => s.paths))];
  if (!resolved.steps.length) return { head, files: [], messages, resolved };

  const tmp = await previewRepo(top, head, paths, resolved.signoff);
  try {
    const dotgit = path.join(tmp, '.git');
    const sim = new CliGitWriter(tmp);
    let conflict: PredictedDiff['conflict'];
    for (let i = 0; i < resolved.steps.length; i++) {
      const rs = resolved.steps[i];
      const outcome =
        rs.step.kind === 'revert'
          ? await sim.revertNoCommit(rs.step.sha)
          : rs.patchText !== undefined
            ? await sim.am3(writePatchForAm(dotgit, rs.patchText))
            : await sim.cherryPickNoCommit(rs.step.sha);
      if (!outcome.ok) {
        conflict = { step: i + 1, subject: rs.step.subject, files: outcome.conflicted.length ? outcome.conflicted : paths };
        break;
      }
      if (rs.patchText !== undefined) await sim.commit(rs.message, { amend: true, noVerify: true });
      else await sim.commit(rs.message, { author: rs.author, date: rs.date, noVerify: true });
    }
    // On a conflict the diff shows the committed steps before it.
    const endRef = 'HEAD';
    const changed = (await run(tmp, ['diff', '--name-only', '-z', head, endRef])).split('\0').filter(Boolean);
    const files: PredictedFile[] = [];
    for (const p of changed) {
      const before = await blob(tmp, head, p);
      const after = await blob(tmp, endRef, p);
      files.push({
        path: p,
        before,
        after,
        patch: createTwoFilesPatch(
          before === null ? '/dev/null' : `a/${p}`,
          after === null ? '/dev/null' : `b/${p}`,
          before ?? '',
          after ?? '',
          undefined,
          undefined,
          { context: 3 },
        ),
      });
    }
    return { head, files, messages, conflict, resolved };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A throw-away repository borrowing `top`'s objects, HEAD at `head`, with only `paths` checked
 * out and no hooks. The caller removes it.
 */
async function previewRepo(top: string, head: string, paths: string[], identity: { name: string; email: string }): Promise<string> {
  const objects = path.resolve(top, (await run(top, ['rev-parse', '--git-path', 'objects'])).trim());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conntrack-backport-preview-'));
  try {
    await run(tmp, ['init', '--quiet']);
    const dotgit = path.join(tmp, '.git');
    fs.writeFileSync(path.join(dotgit, 'objects', 'info', 'alternates'), objects + '\n');
    fs.writeFileSync(path.join(dotgit, 'info', 'sparse-checkout'), paths.map((p) => `/${p}`).join('\n') + '\n');
    fs.appendFileSync(
      path.join(dotgit, 'config'),
      `[core]\n\tsparseCheckout = true\n[user]\n\tname = ${identity.name}\n\temail = ${identity.email}\n`,
    );
    fs.rmSync(path.join(dotgit, 'hooks'), { recursive: true, force: true });
    await run(tmp, ['update-ref', 'refs/heads/preview', head]);
    await run(tmp, ['symbolic-ref', 'HEAD', 'refs/heads/preview']);
    await run(tmp, ['read-tree', '-mu', 'HEAD']);
    return tmp;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The tree as the planned reverts will leave it: the files asked for, or why it cannot be known. */
export interface AfterReverts {
  /** Repository-relative path -> content after the reverts (null: the reverts delete it). */
  files: Record<string, string | null>;
  /** Set when a revert would conflict (the files then are unknown). */
  problem?: string;
}

/**
 * Run only the plan's revert steps (newest first, as the plan orders them) in a throw-away
 * repository and read `wanted` afterwards. Needs no fetch: the reverted commits are local.
 */
export async function predictAfterReverts(
  repo: string,
  plan: BackportPlan,
  wanted: string[],
  opts: { git?: GitWriter } = {},
): Promise<AfterReverts> {
  const git = opts.git ?? new CliGitWriter(repo);
  const top = (await git.root()) ?? repo;
  const head = await git.head();
  const reverts = (await revertsNewestFirst(plan.steps, git)).filter((s) => s.kind === 'revert');
  const paths = new Set(wanted);
  for (const s of reverts) {
    if (!(await git.hasCommit(s.sha))) return { files: {}, problem: `commit ${s.sha} to revert is not in the repository` };
    for (const p of await git.changedPaths(s.sha)) paths.add(p);
  }
  const tmp = await previewRepo(top, head, [...paths], { name: 'conntrack-backport preview', email: 'preview@localhost' });
  try {
    const sim = new CliGitWriter(tmp);
    for (const s of reverts) {
      const outcome = await sim.revertNoCommit(s.sha);
      if (!outcome.ok)
        return {
          files: {},
          problem: `reverting ${s.sha.slice(0, 12)} would conflict${outcome.conflicted.length ? ` in ${outcome.conflicted.join(', ')}` : ''}`,
        };
      await sim.commit(`revert ${s.sha}`, { noVerify: true });
    }
    const files: Record<string, string | null> = {};
    for (const p of wanted) files[p] = await blob(tmp, 'HEAD', p);
    return { files };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function blob(cwd: string, ref: string, p: string): Promise<string | null> {
  try {
    return await run(cwd, ['show', `${ref}:${p}`]);
  } catch {
    return null;
  }
}

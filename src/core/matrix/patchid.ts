// The patch-id layer of analyzeHistory for a whole sweep: when an upstream fix commit (the
// catalogue's id, or an override) exists in the repository, commits touching the file whose
// diff has the same stable patch-id count as that fix, whatever their subject or provenance.
// One `git diff-tree --stdin -p` piped into one `git patch-id --stable`, for the upstream
// commits and every unclassified commit touching the file together: never one process per commit.

import { spawn } from 'node:child_process';
import { CATALOGUE } from '../catalogue';
import { batchCheck } from '../git/catfile';
import type { CommitRecord } from '../git/reader';
import { gitEnv } from '../git/run';
import { classifyCommit, isAzureMarker } from '../history/analyze';
import type { HistoryCommitEvidence, VariantId } from '../types';
import type { ClassifiedCommit } from './history';

const HEX = /^[0-9a-f]{4,40}$/i;

/** The upstream ids to look for, per catalogue entry (an override replaces the entry's ids). */
export function upstreamIds(overrides: Partial<Record<VariantId, string>> = {}): { variant: VariantId; up: string }[] {
  const out: { variant: VariantId; up: string }[] = [];
  for (const [k, v] of Object.entries(overrides)) {
    // Only hex ids ever reach git: an option-like or revision-expression override is refused.
    if (typeof v !== 'string' || !HEX.test(v.trim())) throw new Error(`override for ${k} is not a commit id: ${JSON.stringify(v)}`);
  }
  for (const e of CATALOGUE) {
    const ups = overrides[e.id] ? [overrides[e.id]!.trim().toLowerCase()] : e.commits;
    for (const up of ups) out.push({ variant: e.id, up });
  }
  return out;
}

/** `<patch-id> <commit>` for each commit with a (non-empty) diff to `paths`. */
export function patchIds(repo: string, commits: string[], paths: string[], signal?: AbortSignal): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const env = gitEnv();
    // --root: a root commit's diff is its whole content, as `git show` (analyzeHistory) gives it.
    const diff = spawn('git', ['diff-tree', '--stdin', '-p', '--root', '--no-color', '--no-ext-diff', '--', ...paths.map((p) => `:(top)${p}`)], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'], env, signal });
    const pid = spawn('git', ['patch-id', '--stable'], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'], env, signal });
    let out = '';
    let err = '';
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      diff.kill();
      pid.kill();
      reject(e);
    };
    diff.stdout.pipe(pid.stdin);
    diff.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    pid.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    pid.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    diff.stdin.on('error', () => undefined);
    pid.stdin.on('error', () => undefined);
    diff.on('error', fail);
    pid.on('error', fail);
    diff.on('close', (code) => code !== 0 && fail(new Error(`git diff-tree --stdin exited (${code}): ${err.trim()}`)));
    pid.on('close', (code) => {
      if (failed) return;
      if (code !== 0) return fail(new Error(`git patch-id exited (${code}): ${err.trim()}`));
      const ids = new Map<string, string>();
      for (const line of out.split('\n')) {
        const [id, commit] = line.trim().split(/\s+/);
        if (id && commit) ids.set(commit, id);
      }
      resolve(ids);
    });
    diff.stdin.end(commits.length ? commits.join('\n') + '\n' : '');
  });
}

/**
 * Commits of `records` that no other rule classified and whose patch-id equals that of an
 * upstream fix present here. Same rules as analyzeHistory: the upstream commit itself is not
 * its own match, a commit matches at most one entry (the first in catalogue order).
 */
export async function patchIdMatches(repo: string, records: CommitRecord[], classified: ClassifiedCommit[], paths: string[], overrides?: Partial<Record<VariantId, string>>, signal?: AbortSignal): Promise<ClassifiedCommit[]> {
  const wanted = upstreamIds(overrides);
  const done = new Set(classified.filter((c) => c.plain || c.azure).map((c) => c.sha));
  const candidates = records.filter((r) => !done.has(r.sha) && !classifyCommit(r, false));
  if (!candidates.length || !records.length) return [];
  const answers = await batchCheck(repo, wanted.map((w) => `${w.up}^{commit}`), signal);
  const present = wanted.map((w, i) => ({ ...w, full: answers[i].type === 'commit' ? answers[i].sha! : null })).filter((w) => w.full);
  if (!present.length) return [];
  const ids = await patchIds(repo, [...new Set([...present.map((p) => p.full!), ...candidates.map((c) => c.sha)])], paths, signal);
  const out: ClassifiedCommit[] = [];
  const matched = new Set<string>();
  for (const p of present) {
    const want = ids.get(p.full!);
    if (!want) continue;
    for (const c of candidates) {
      if (matched.has(c.sha) || c.sha.startsWith(p.up) || ids.get(c.sha) !== want) continue;
      const ev: HistoryCommitEvidence = { sha: c.sha, subject: c.subject, upstream: p.up, variant: p.variant, matchedBy: 'patch-id' };
      out.push({ sha: c.sha, subject: c.subject, plain: ev, azure: ev, azureMarker: isAzureMarker(c) });
      matched.add(c.sha);
    }
  }
  return out;
}

// The patch-id layer of analyzeHistory for a whole sweep: when an upstream fix commit (the
// catalogue's id, or an override) exists in the repository, commits touching the file whose
// diff has the same stable patch-id count as that fix, whatever their subject or provenance.
// One `git diff-tree --stdin -p` piped into one `git patch-id --stable`, for the upstream
// commits and every unclassified commit touching the file together: never one process per commit.

import { CATALOGUE } from '../catalogue';
import { batchCheck } from '../git/catfile';
import type { CommitRecord } from '../git/reader';
import { gitPipe } from '../git/run';
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
export async function patchIds(repo: string, commits: string[], paths: string[], signal?: AbortSignal): Promise<Map<string, string>> {
  // --root: a root commit's diff is its whole content, as `git show` (analyzeHistory) gives it.
  const diffTree = ['diff-tree', '--stdin', '-p', '--root', '--no-color', '--no-ext-diff', '--', ...paths.map((p) => `:(top)${p}`)];
  const out = await gitPipe(repo, diffTree, ['patch-id', '--stable'], { input: commits.length ? commits.join('\n') + '\n' : '', signal });
  const ids = new Map<string, string>();
  for (const line of out.toString('utf8').split('\n')) {
    const [id, commit] = line.trim().split(/\s+/);
    if (id && commit) ids.set(commit, id);
  }
  return ids;
}

/**
 * Commits of `records` that no other rule classified and whose patch-id equals that of an
 * upstream fix present here. Same rules as analyzeHistory: the upstream commit itself is not
 * its own match, a commit matches at most one entry (the first in catalogue order).
 */
export async function patchIdMatches(
  repo: string,
  records: CommitRecord[],
  classified: ClassifiedCommit[],
  paths: string[],
  overrides?: Partial<Record<VariantId, string>>,
  signal?: AbortSignal,
): Promise<ClassifiedCommit[]> {
  const wanted = upstreamIds(overrides);
  const done = new Set(classified.filter((c) => c.plain || c.azure).map((c) => c.sha));
  const candidates = records.filter((r) => !done.has(r.sha) && !classifyCommit(r, false));
  if (!candidates.length || !records.length) return [];
  const answers = await batchCheck(
    repo,
    wanted.map((w) => `${w.up}^{commit}`),
    signal,
  );
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

// The history layer: what the commits touching the file say about each catalogue entry —
// provenance lines, known subjects, reverts, and patch-id equivalence with upstream commits
// that are present in the repository.

import { CATALOGUE, CatalogueEntry } from '../catalogue';
import type { CommitRecord, GitReader } from '../git/reader';
import type { HistoryCommitEvidence, HistoryReport, VariantId } from '../types';

export interface Provenance {
  sha: string;
  kind: NonNullable<HistoryCommitEvidence['provenance']>;
}

const PROVENANCE: { re: RegExp; kind: Provenance['kind'] }[] = [
  { re: /\(cherry[ -]picked from commit ([0-9a-f]{7,40})/gi, kind: 'cherry-picked' },
  { re: /\(backported from commit ([0-9a-f]{7,40})/gi, kind: 'backported' },
  { re: /\[\s*Upstream commit ([0-9a-f]{7,40})\s*\]/gi, kind: 'stable-upstream' },
  { re: /^commit ([0-9a-f]{12,40}) upstream\.?$/gim, kind: 'commit-upstream' },
];

export function provenanceLines(body: string): Provenance[] {
  const out: Provenance[] = [];
  for (const p of PROVENANCE) for (const m of body.matchAll(p.re)) out.push({ sha: m[1].toLowerCase(), kind: p.kind });
  return out;
}

/** Subject with mail and Ubuntu prefixes removed: `[SRU][Bionic][PATCH 1/2] UBUNTU: SAUCE: x` -> `x`. */
export function bareSubject(subject: string): string {
  return subject
    .replace(/^(\s*\[[^\]]*\]\s*)+/, '')
    .replace(/^UBUNTU:\s*(SAUCE:\s*)?/i, '')
    .replace(/^\s*(\[[^\]]*\]\s*)+/, '')
    .trim();
}

const shaMatches = (full: string, known: string): boolean => full.startsWith(known) || known.startsWith(full);

export function entryForUpstreamSha(sha: string): CatalogueEntry | undefined {
  return CATALOGUE.find((e) => e.commits.some((c) => shaMatches(sha, c)));
}

function mentionsPosting(c: CommitRecord, e: CatalogueEntry): boolean {
  if (!e.patchwork) return false;
  const text = `${c.subject}\n${c.body}`;
  return new RegExp(`patchwork[^\\s]*/(?:patch/)?${e.patchwork}\\b|\\b${e.patchwork}\\b`).test(text);
}

/** Classify one commit against the catalogue. `azureContext`: the tree carries azure-only commits. */
export function classifyCommit(c: CommitRecord, azureContext: boolean): HistoryCommitEvidence | null {
  const subject = bareSubject(c.subject);
  const revert = /^Revert "(.*)"$/.exec(subject);
  const target = revert ? bareSubject(revert[1]) : subject;
  const prov = provenanceLines(c.body);
  const base = { sha: c.sha, subject: c.subject } as const;

  if (!revert) {
    for (const p of prov) {
      const e = entryForUpstreamSha(p.sha);
      if (e) return { ...base, upstream: p.sha, provenance: p.kind, variant: e.id, matchedBy: 'provenance' };
    }
  }
  // Postings are recognised by their patchwork id or by a subject only they have.
  for (const e of CATALOGUE.filter((x) => x.source === 'patchwork')) {
    if (!revert && mentionsPosting(c, e)) return { ...base, variant: e.id, matchedBy: 'provenance' };
  }
  const bySubject = CATALOGUE.filter((e) => e.subject === target);
  if (!bySubject.length) return null;
  let e = bySubject.find((x) => x.source === 'upstream') ?? bySubject[0];
  // ed07d9a021df and azure 937963 share a subject: without a provenance line, an azure tree's
  // copy (SAUCE prefix, LP #1795493, or beside an azure-only commit) is the posting.
  const sameSubjectPosting = bySubject.find((x) => x.source === 'patchwork');
  // A commit with a provenance line was picked from a real tree (e.g. a mirror whose ids are not
  // the catalogue's): it is the upstream entry, not the posting.
  const picked = prov.some((p) => p.kind === 'cherry-picked' || p.kind === 'backported' || p.kind === 'stable-upstream');
  if (sameSubjectPosting && !picked && (/UBUNTU:\s*SAUCE/i.test(c.subject) || /1795493/.test(c.body) || azureContext))
    e = sameSubjectPosting;
  if (revert) {
    const m = /This reverts commit ([0-9a-f]{7,40})/.exec(c.body);
    return { ...base, variant: e.id, matchedBy: 'revert', reverts: true, upstream: m?.[1] };
  }
  return { ...base, variant: e.id, matchedBy: 'subject' };
}

/** A commit only azure trees have (an azure-only posting, or the linux-azure LP bug): it makes same-subject commits read as the azure postings. */
export function isAzureMarker(c: CommitRecord): boolean {
  const azureOnly = CATALOGUE.filter((e) => e.source === 'patchwork' && !e.sameCodeAs);
  return azureOnly.some((e) => e.subject === bareSubject(c.subject) || mentionsPosting(c, e)) || /1795493/.test(c.body);
}

export interface HistoryOptions {
  ref?: string;
  max?: number;
  /** Upstream commit ids to use instead of the catalogue's (mirrors, rewritten histories, tests). */
  overrides?: Partial<Record<VariantId, string>>;
}

export async function analyzeHistory(git: GitReader, relPaths: string[], opts: HistoryOptions = {}): Promise<HistoryReport> {
  const root = await git.root();
  if (!root) return { available: false, reason: 'not inside a git checkout', commitsTouchingFile: 0, commits: [], net: {} };
  const commits = await git.logPaths(relPaths, { ref: opts.ref, max: opts.max ?? 5000 });
  const azureContext = commits.some(isAzureMarker);
  const found: HistoryCommitEvidence[] = [];
  const classified = new Set<string>();
  for (const c of commits) {
    const ev = classifyCommit(c, azureContext);
    if (ev) {
      found.push(ev);
      classified.add(c.sha);
    }
  }
  // Patch-id: upstream commits present in this repository (e.g. a fetched upstream remote).
  // A local commit's patch-id is computed at most once, however many upstream commits are present.
  const localPatchIds = new Map<string, Promise<string | null>>();
  const localPatchId = (sha: string): Promise<string | null> => {
    let p = localPatchIds.get(sha);
    if (!p) localPatchIds.set(sha, (p = git.patchId(sha, relPaths)));
    return p;
  };
  for (const e of CATALOGUE) {
    const ups = opts.overrides?.[e.id] ? [opts.overrides[e.id]!] : e.commits;
    for (const up of ups) {
      if (!(await git.hasCommit(up))) continue;
      const want = await git.patchId(up, relPaths);
      if (!want) continue;
      for (const c of commits) {
        if (classified.has(c.sha) || c.sha.startsWith(up)) continue;
        if ((await localPatchId(c.sha)) === want) {
          found.push({ sha: c.sha, subject: c.subject, upstream: up, variant: e.id, matchedBy: 'patch-id' });
          classified.add(c.sha);
        }
      }
    }
  }
  // Net state, oldest first: an apply followed by a revert of the same entry cancels out.
  const net: HistoryReport['net'] = {};
  const order = new Map(commits.map((c, i) => [c.sha, i]));
  for (const ev of [...found].sort((a, b) => (order.get(b.sha) ?? 0) - (order.get(a.sha) ?? 0))) {
    if (!ev.variant) continue;
    net[ev.variant] = ev.reverts ? 'reverted' : 'applied';
  }
  return { available: true, repoRoot: root, relPath: relPaths[0], commitsTouchingFile: commits.length, commits: found, net };
}

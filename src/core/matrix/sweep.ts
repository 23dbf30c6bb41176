// The sweep: nf_conntrack_core.c at every selected branch and tag, without a checkout.
// Refs -> commits (for-each-ref, tags peeled) -> blob ids (one cat-file --batch-check) ->
// each DISTINCT blob read once through one long-lived cat-file --batch and detected once (and
// nf_nat_core.c beside it: resolved in the same batch-check, each distinct blob scanned once
// through the same cat-file) -> history joined per ref from one log over the graph (patch-ids
// against upstream fixes present in the repository) -> lines and entered/lost.

import * as path from 'node:path';
import { CORE_REL_PATH } from '../detect/input';
import { detectBuffer, joinHistory } from '../detect';
import { batchCheck, CatFileBatch, CatFileObject } from '../git/catfile';
import { CommitGraph, commonBase, parentsOf, walkGraph } from '../git/graph';
import { listAllRefs, refMatcher, RefInfo } from '../git/refs';
import { gitText } from '../git/run';
import type { DetectionResult } from '../types';
import { classifyAll, ClassifiedCommit, historyForCommit, logTouching, mergeClassified } from './history';
import { natPathFor, NatScan, scanNatBlob, withNat } from './nat';
import { patchIdMatches, upstreamIds } from './patchid';
import { buildLines, scanLines } from './lines';
import { buildRow, Located } from './row';
import type { HistoryMark, Matrix, MatrixRow, SweepOptions, SweepProgress } from './types';

/** Blob requests kept in flight ahead of the detector. */
const PREFETCH = 6;

/** The file's name before 2.6.15 (IPv4-only conntrack): its presence explains an absent row. */
const PREDECESSOR = 'net/ipv4/netfilter/ip_conntrack_core.c';

export class SweepCancelled extends Error {
  constructor() {
    super('sweep cancelled');
  }
}

function checkPath(p: string): void {
  if (!p || /[\n\r]/.test(p) || p.startsWith('-') || p.startsWith('/')) throw new Error(`not a path inside the repository: ${JSON.stringify(p)}`);
}

const natural = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });
const KIND_ORDER = { branch: 0, remote: 1, tag: 2 } as const;

export async function sweep(repo: string, opts: SweepOptions = {}): Promise<Matrix> {
  const t0 = performance.now();
  const signal = opts.signal;
  const primary = opts.path ?? CORE_REL_PATH;
  checkPath(primary);
  upstreamIds(opts.overrides); // refuses a non-hex override before any git runs
  const warnings: string[] = [];
  const report = (p: SweepProgress): void => opts.onProgress?.(p);
  const cancelled = (): void => {
    if (signal?.aborted) throw new SweepCancelled();
  };
  const ms = { refs: 0, resolve: 0, detect: 0, history: 0, lines: 0, total: 0 };
  let lap = performance.now();
  const tick = (k: keyof typeof ms): void => {
    const now = performance.now();
    ms[k] += now - lap;
    lap = now;
  };

  // 1. refs
  report({ phase: 'refs', done: 0, total: 1, message: 'listing refs' });
  const all = await listAllRefs(repo, signal);
  const selected = all.filter(refMatcher(opts.refs));
  if (!selected.length) warnings.push(`no ref matches ${JSON.stringify(opts.refs ?? [])}`);
  const commits = [...new Set(selected.map((r) => r.commit).filter((c): c is string => !!c))];
  tick('refs');
  cancelled();

  // 2. blob ids at the primary path, then other paths the file has had for the misses
  report({ phase: 'resolve', done: 0, total: commits.length, message: `resolving ${primary} at ${commits.length} commits` });
  const located = new Map<string, Located>();
  // One batch-check answers both files at every commit: the conntrack file, then the NAT file.
  const natPrimary = natPathFor(primary);
  const first = await batchCheck(repo, [...commits.map((c) => `${c}:${primary}`), ...commits.map((c) => `${c}:${natPrimary}`)], signal);
  const missing: string[] = [];
  commits.forEach((c, i) => (first[i].type === 'blob' ? located.set(c, { blob: first[i].sha, path: primary, status: 'ok' }) : missing.push(c)));
  const pathsSeen = new Set([primary]);
  if (missing.length) {
    const moved = await findMoved(repo, missing, primary, signal);
    for (const [c, loc] of moved) {
      located.set(c, loc);
      if (loc.path) pathsSeen.add(loc.path);
    }
  }
  const natAt = await locateNat(repo, commits, located, first.slice(commits.length), natPrimary, signal);
  tick('resolve');
  cancelled();

  // 3. detect each distinct blob once; scan each distinct NAT blob once, through the same process
  const blobs = new Map<string, string>(); // blob -> path it was found at (for the report's file field)
  for (const l of located.values()) if (l.blob && l.path && !blobs.has(l.blob)) blobs.set(l.blob, l.path);
  const natBlobs = new Map<string, string>();
  for (const n of natAt.values()) if (!natBlobs.has(n.blob)) natBlobs.set(n.blob, n.path);
  const results = new Map<string, DetectionResult>();
  const natScans = new Map<string, NatScan>();
  const cat = new CatFileBatch(repo);
  try {
    const ids = [...blobs.keys(), ...natBlobs.keys()];
    // A few requests ahead: git reads the next blobs while the detector works on this one.
    const pending: Promise<CatFileObject | null>[] = [];
    const ask = (k: number): void => {
      if (k >= ids.length) return;
      pending[k] = cat.read(ids[k]);
      pending[k].catch(() => undefined); // a cancelled sweep leaves reads nobody awaits
    };
    for (let k = 0; k < PREFETCH; k++) ask(k);
    for (let i = 0; i < ids.length; i++) {
      const obj = await pending[i];
      delete pending[i];
      ask(i + PREFETCH);
      cancelled();
      const isNat = i >= blobs.size;
      const file = isNat ? natBlobs.get(ids[i])! : blobs.get(ids[i])!;
      if (!obj) {
        warnings.push(`blob ${ids[i]} could not be read`);
        continue;
      }
      if (isNat) natScans.set(ids[i], scanNatBlob(obj.content, file));
      else results.set(ids[i], await detectBuffer(obj.content, file));
      if (i % 16 === 0 || i === ids.length - 1) report({ phase: 'detect', done: i + 1, total: ids.length, message: `detecting blob ${i + 1} of ${ids.length}` });
    }
  } finally {
    cat.close();
  }
  tick('detect');
  cancelled();
  // The source layer with the NAT scan joined, per distinct (conntrack blob, NAT blob) pair.
  const sourceResults = new Map<string, DetectionResult | null>();
  const sourceFor = (commit: string): DetectionResult | null => {
    const blob = located.get(commit)?.blob;
    const base = blob ? results.get(blob) : undefined;
    if (!base) return null;
    const nat = natAt.get(commit)?.blob;
    const key = `${blob}|${nat ?? ''}`;
    if (!sourceResults.has(key)) sourceResults.set(key, withNat(base, nat ? natScans.get(nat) : undefined));
    return sourceResults.get(key)!;
  };

  // 4. history: commits touching the file, classified once; ancestry from one walk
  const history = opts.history !== false;
  report({ phase: 'history', done: 0, total: 1, message: 'reading history of the file' });
  let classified: ClassifiedCommit[] = [];
  if (history && commits.length) {
    // detectPath reads the history of both files; so does the sweep where the NAT file exists.
    const logPaths = [...pathsSeen, ...new Set([...natAt.values()].map((n) => n.path))];
    const records = await logTouching(repo, commits, logPaths, signal);
    classified = classifyAll(records);
    classified = mergeClassified(classified, await patchIdMatches(repo, records, classified, logPaths, opts.overrides, signal));
  }
  const byId = new Map(classified.map((c) => [c.sha, c]));
  const lineBranches = pickLineBranches(all, selected);
  const carrying = commits.filter((c) => {
    const r = sourceFor(c);
    return !!r && r.kernelFile && (r.races.race1.verdict === 'fixed' || r.races.race2.verdict === 'fixed' || r.races.race3.verdict === 'fixed' || r.zoneFollowup.present === true);
  });
  const tips = [...commits, ...lineBranches.map((b) => b.commit!).filter(Boolean)];
  const graph = await walkAbove(repo, tips, classified.map((c) => c.sha), carrying, selected, signal, warnings);
  graph.mark(classified.map((c) => c.sha));
  cancelled();

  const joined = new Map<string, { result: DetectionResult; marks: HistoryMark[] }>();
  const rows: MatrixRow[] = [];
  for (const ref of selected) {
    const loc: Located = ref.commit ? located.get(ref.commit) ?? { blob: null, path: null, status: 'absent' } : { blob: null, path: null, status: 'no-commit', note: 'the ref does not point at a commit' };
    const base = ref.commit && loc.blob ? sourceFor(ref.commit) : null;
    const natBlob = ref.commit ? natAt.get(ref.commit)?.blob ?? '' : '';
    let result = base;
    let marks: HistoryMark[] = [];
    if (base && history && ref.commit && base.kernelFile) {
      // Refs sharing a blob and the same set of history commits share the joined result.
      const key = `${loc.blob}|${natBlob}|${graph.maskKey(ref.commit)}`;
      let j = joined.get(key);
      if (!j) {
        const h = historyForCommit(graph, byId, ref.commit, loc.path ?? primary);
        const r = h.commits.length ? structuredClone(base) : base;
        if (h.commits.length) {
          r.history = h;
          joinHistory(r, h);
        }
        j = { result: r, marks: [...h.commits].reverse().map((c) => ({ commit: c.sha, subject: c.subject, variant: c.variant, reverts: c.reverts, matchedBy: c.matchedBy })) };
        joined.set(key, j);
      }
      result = j.result;
      marks = j.marks;
    }
    rows.push(buildRow(ref, loc, result, marks, ref.commit ? natAt.get(ref.commit)?.path : undefined));
  }
  rows.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || natural(a.short, b.short));
  tick('history');
  cancelled();

  // 5. lines of development, where each fix entered and where it was lost
  report({ phase: 'lines', done: 0, total: 1, message: 'placing tags on their branches' });
  let lines: Matrix['lines'] = [];
  let scan: Pick<Matrix, 'entered' | 'lost' | 'restored'> = { entered: [], lost: [], restored: [] };
  if (opts.lines !== false) {
    lines = buildLines(graph, rows, lineBranches);
    scan = await scanLines(lines, rows, {
      graph,
      classified: byId,
      mergeChanged: async (m, p) => {
        const [atMerge, atParent] = await batchCheck(repo, [`${m}:${p}`, `${m}^1:${p}`], signal);
        return atMerge.sha !== atParent.sha;
      },
    });
  }
  tick('lines');
  ms.total = performance.now() - t0;
  report({ phase: 'lines', done: 1, total: 1, message: 'done' });

  return {
    repo: path.resolve(repo),
    path: primary,
    selection: opts.refs ?? [],
    generatedAt: new Date().toISOString(),
    rows,
    lines,
    ...scan,
    stats: { refs: rows.length, distinctCommits: commits.length, distinctBlobs: blobs.size, parsedBlobs: results.size, natBlobs: natScans.size, historyCommits: classified.length, graphCommits: graph.order.length, ms },
    warnings,
  };
}

/** Branches that define lines: the selected ones, or every branch when only tags were selected. */
function pickLineBranches(all: RefInfo[], selected: RefInfo[]): RefInfo[] {
  const sel = selected.filter((r) => r.kind !== 'tag' && r.commit);
  return sel.length ? sel : all.filter((r) => r.kind !== 'tag' && r.commit);
}

/**
 * The graph above a floor low enough to hold every history commit and every ref that carries
 * a fix (refs below it carry nothing and so cannot follow a carrying ref on a line). Starts
 * from the history commits plus the oldest carrying ref and lowers the floor if a carrying ref
 * fell under it.
 */
async function walkAbove(repo: string, tips: string[], historyCommits: string[], carrying: string[], refs: RefInfo[], signal: AbortSignal | undefined, warnings: string[]): Promise<CommitGraph> {
  if (!historyCommits.length && !carrying.length) return new CommitGraph();
  const dateOf = new Map(refs.filter((r) => r.commit).map((r) => [r.commit!, r.date ?? 0]));
  const oldest = [...carrying].sort((a, b) => (dateOf.get(a) ?? 0) - (dateOf.get(b) ?? 0))[0];
  let seeds = [...historyCommits, ...(oldest ? [oldest] : [])];
  for (let round = 0; round < 4; round++) {
    const base = await commonBase(repo, seeds, signal);
    const floor = base ? await parentsOf(repo, base, signal) : [];
    const g = await walkGraph(repo, tips, floor, signal);
    const under = carrying.filter((c) => !g.has(c));
    if (!under.length || !base) return g;
    seeds = [base, ...under];
  }
  warnings.push('could not find a common floor for the graph walk: walked the whole history');
  return walkGraph(repo, tips, [], signal);
}

/**
 * The NAT file beside the conntrack file at each commit: answers for `natPrimary` came with the
 * first batch-check; commits whose conntrack file sits elsewhere (moved, nested) ask once more,
 * all together, beside the path it was found at.
 */
async function locateNat(repo: string, commits: string[], located: Map<string, Located>, atPrimary: { sha: string | null; type: string | null }[], natPrimary: string, signal?: AbortSignal): Promise<Map<string, { blob: string; path: string }>> {
  const out = new Map<string, { blob: string; path: string }>();
  const elsewhere: { commit: string; path: string }[] = [];
  commits.forEach((c, i) => {
    const l = located.get(c);
    if (!l?.blob || !l.path) return;
    const want = natPathFor(l.path);
    if (want !== natPrimary) elsewhere.push({ commit: c, path: want });
    else if (atPrimary[i].type === 'blob') out.set(c, { blob: atPrimary[i].sha!, path: natPrimary });
  });
  const more = await batchCheck(repo, elsewhere.map((e) => `${e.commit}:${e.path}`), signal);
  more.forEach((a, i) => a.type === 'blob' && out.set(elsewhere[i].commit, { blob: a.sha!, path: elsewhere[i].path }));
  return out;
}

/**
 * For commits without the file at `primary`: other paths a file of the same name had in their
 * history (a vendor tree that nests the kernel, a restructure), tried in order of frequency.
 */
async function findMoved(repo: string, missing: string[], primary: string, signal?: AbortSignal): Promise<Map<string, Located>> {
  const base = primary.split('/').pop()!;
  const out = new Map<string, Located>();
  const log = await gitText(repo, ['log', '--stdin', '--full-history', '--format=', '--name-only', '--', `:(glob)**/${base}`], { input: missing.join('\n') + '\n', signal });
  const freq = new Map<string, number>();
  for (const p of log.split('\n')) if (p && p !== primary && path.posix.basename(p) === base) freq.set(p, (freq.get(p) ?? 0) + 1);
  const candidates = [...freq.keys()].sort((a, b) => freq.get(b)! - freq.get(a)!);
  let left = missing;
  for (const cand of candidates) {
    if (!left.length) break;
    const answers = await batchCheck(repo, left.map((c) => `${c}:${cand}`), signal);
    const still: string[] = [];
    answers.forEach((a, i) => (a.type === 'blob' ? out.set(left[i], { blob: a.sha, path: cand, status: 'moved', note: `not at ${primary}; found at ${cand}` }) : still.push(left[i])));
    left = still;
  }
  if (left.length) {
    const old = await batchCheck(repo, left.map((c) => `${c}:${PREDECESSOR}`), signal);
    old.forEach((a, i) =>
      out.set(left[i], {
        blob: null,
        path: null,
        status: 'absent',
        note: a.type === 'blob' ? `no ${base} here; only its pre-2.6.15 predecessor ${PREDECESSOR}` : `no ${base} in this tree${candidates.length ? ` (looked at ${[primary, ...candidates].join(', ')})` : ''}`,
      }),
    );
  }
  return out;
}


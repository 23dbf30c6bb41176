// The sweep's view of history without holding the commit graph:
// - walkPathGraph: the file's history as `git log -- path` sees it (default simplification,
//   rewritten parents): the commits touching the file along the chains git follows, a few
//   thousand nodes even in a million-commit repository. git walks only those chains (not the
//   whole graph, as --full-history would) and answers from the commit-graph and its
//   changed-path Bloom filters when present. firstTouching: one ref's nearest such commit.
// - CommitGraph: that small graph in memory, answering "which of the marked commits are
//   ancestors of each node" for every node at once (bit sets from parents to children).
// - firstParentTags: which of a set of commits sit on each branch's first-parent chain, in
//   order, streamed, stopping where a chain joins one already walked.
// - commitGraphState: whether git has a commit-graph (and Bloom filters) to answer from.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CommitRecord } from './reader';
import { PACK_BOUNDS } from './bounds';
import { gitLines, gitRun, gitText } from './run';

export interface PathGraphNode {
  sha: string;
  /** Rewritten parents: the nearest nodes of the same graph (or, in an incremental walk, boundary commits). */
  parents: string[];
  /** Not from a walk: a swept commit joined to the commits its files come from (it may touch neither). */
  decorated: boolean;
  record: CommitRecord;
}

export class CommitGraph {
  /** Commits, parents before children. */
  readonly order: string[] = [];
  readonly index = new Map<string, number>();
  /** Parent indexes (only parents inside the graph). */
  readonly parents: Int32Array[] = [];
  private masks: Uint32Array = new Uint32Array(0);
  private words = 0;
  marked: string[] = [];

  /** Nodes in walk order (parents first); parents outside the list are dropped. */
  static of(nodes: { sha: string; parents: string[] }[]): CommitGraph {
    const g = new CommitGraph();
    for (const n of nodes) {
      if (g.index.has(n.sha)) continue;
      g.index.set(n.sha, g.order.length);
      g.order.push(n.sha);
      g.parents.push(Int32Array.from(n.parents.map((p) => g.index.get(p) ?? -1).filter((i) => i >= 0)));
    }
    return g;
  }

  has(sha: string): boolean {
    return this.index.has(sha);
  }

  /** Set the marked commits and propagate: a commit's set = own bit | its parents' sets. */
  mark(commits: string[]): void {
    this.marked = commits.filter((c) => this.index.has(c));
    this.words = Math.max(1, Math.ceil(this.marked.length / 32));
    const w = this.words;
    const m = new Uint32Array(this.order.length * w);
    const bit = new Map(this.marked.map((c, i) => [this.index.get(c)!, i]));
    for (let i = 0; i < this.order.length; i++) {
      for (const p of this.parents[i]) for (let k = 0; k < w; k++) m[i * w + k] |= m[p * w + k];
      const b = bit.get(i);
      if (b !== undefined) m[i * w + (b >>> 5)] |= 1 << (b & 31);
    }
    this.masks = m;
  }

  /** Marked commits that are ancestors of (or equal to) `sha`, oldest first in walk order. */
  markedAncestors(sha: string): string[] {
    const i = this.index.get(sha);
    if (i === undefined) return [];
    const out: { c: string; at: number }[] = [];
    for (let b = 0; b < this.marked.length; b++) {
      if (this.masks[i * this.words + (b >>> 5)] & (1 << (b & 31))) out.push({ c: this.marked[b], at: this.index.get(this.marked[b])! });
    }
    return out.sort((x, y) => x.at - y.at).map((x) => x.c);
  }

  /** Key of the marked-ancestor set, for memoising per-ref work. */
  maskKey(sha: string): string {
    const i = this.index.get(sha);
    if (i === undefined) return '-';
    return Array.from(this.masks.subarray(i * this.words, (i + 1) * this.words)).join('.');
  }
}

const SEP = '\x1e';
const FIELD = '\x1f';
/** Ends a record: git 2.39 prints `--parents` output before each record even with --no-commit-header. */
const END = '\x1d';
const FORMAT = `${SEP}%H${FIELD}%P${FIELD}%s${FIELD}%an <%ae>${FIELD}%aI${FIELD}%b${END}`;

/** The walks run with bounded pack windows (bounds.ts). */
export const WALK_CONFIG = PACK_BOUNDS;

/**
 * The file's history from `tips` as `git log -- path` sees it (default history simplification:
 * at a merge that leaves the file as one parent had it, only that parent is followed), with
 * rewritten parents: the nearest such commits below. git visits only the commits along the
 * followed chains and answers each from the commit-graph and its changed-path Bloom filter
 * when present. Without the ancestors of `exclude` (an incremental walk above a kept one:
 * parents may then name boundary commits). Nodes come in walk order, oldest first.
 */
export async function walkPathGraph(
  repo: string,
  tips: string[],
  paths: string[],
  opts: { exclude?: string[]; signal?: AbortSignal } = {},
): Promise<PathGraphNode[]> {
  if (!tips.length) return [];
  const input = [...new Set(tips), ...(opts.exclude ?? []).map((e) => `^${e}`)].join('\n') + '\n';
  const args = [
    ...WALK_CONFIG,
    'rev-list',
    '--no-commit-header',
    `--format=${FORMAT}`,
    '--parents',
    '--reverse',
    '--stdin',
    '--',
    ...paths,
  ];
  const out = (await gitRun(repo, args, { input, signal: opts.signal })).toString('utf8');
  const nodes: PathGraphNode[] = [];
  for (const [k, piece] of out.split(SEP).entries()) {
    const chunk = piece.split(END)[0];
    if (!k || !chunk.trim()) continue;
    const [sha, parents, subject, author, date, body] = chunk.split(FIELD);
    nodes.push({
      sha: sha.trim(),
      parents: parents ? parents.trim().split(' ').filter(Boolean) : [],
      decorated: false,
      record: { sha: sha.trim(), subject: subject ?? '', author: author ?? '', date: date ?? '', body: (body ?? '').trim() },
    });
  }
  return nodes;
}

/** The first commit `git log -1 <commit> -- path` shows (the commit the file at `commit` comes from), or null. */
export async function firstTouching(repo: string, commit: string, p: string, signal?: AbortSignal): Promise<string | null> {
  const out = await gitText(repo, [...WALK_CONFIG, 'rev-list', '-n1', commit, '--', p], { signal });
  return out.trim() || null;
}

/**
 * For each branch, the commits of `wanted` on its first-parent chain, tip first. One streamed
 * `rev-list --first-parent --simplify-by-decoration --parents` over every branch at once: git
 * walks the union of the chains once and prints only commits a ref points at, each with the
 * next such commit down its first-parent chain; each branch's list follows those links.
 */
export async function firstParentTags(
  repo: string,
  branches: { name: string; commit: string }[],
  wanted: Set<string>,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  if (!branches.length) return new Map();
  return chainsFrom(await firstParentLinks(repo, branches, signal), branches, wanted);
}

/**
 * The walk behind firstParentTags: each decorated commit on the branches' first-parent chains
 * with the next decorated commit down its chain (null at the root). Kept by a kept sweep: a
 * later one follows the same links while no line's branch moved (a decoration that went is
 * just not wanted; see unreachableFrom for one that came).
 */
export async function firstParentLinks(
  repo: string,
  branches: { name: string; commit: string }[],
  signal?: AbortSignal,
): Promise<Map<string, string | null>> {
  const next = new Map<string, string | null>();
  if (!branches.length) return next;
  await gitLines(
    repo,
    [...WALK_CONFIG, 'rev-list', '--first-parent', '--simplify-by-decoration', '--parents', '--stdin'],
    (line) => {
      const [c, p] = line.trim().split(' ');
      if (c) next.set(c, p ?? null);
    },
    { signal, input: [...new Set(branches.map((b) => b.commit))].join('\n') + '\n' },
  );
  return next;
}

/** Per branch, the commits of `wanted` met following `next` from its tip, tip first. */
export function chainsFrom(
  next: Map<string, string | null>,
  branches: { name: string; commit: string }[],
  wanted: Set<string>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const b of branches) {
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let c: string | null | undefined = b.commit; c && !seen.has(c); c = next.get(c)) {
      seen.add(c);
      if (wanted.has(c)) chain.push(c);
    }
    out.set(b.name, chain);
  }
  return out;
}

/**
 * Which of `commits` no tip reaches (`rev-list <commits> --not <tips>`, stopped once all are
 * seen): such a commit is on no branch's first-parent chain, so tagging it moves no line.
 */
export async function unreachableFrom(repo: string, commits: string[], tips: string[], signal?: AbortSignal): Promise<Set<string>> {
  const want = new Set(commits);
  const out = new Set<string>();
  if (!want.size) return out;
  await gitLines(
    repo,
    [...WALK_CONFIG, 'rev-list', '--stdin'],
    (line) => {
      const c = line.trim();
      if (want.has(c)) out.add(c);
      return out.size < want.size;
    },
    { signal, input: [...want, ...tips.map((t) => `^${t}`)].join('\n') + '\n' },
  );
  return out;
}

/** Merges on `to`'s first-parent chain above `from`, oldest first. */
export async function firstParentMerges(repo: string, from: string, to: string, signal?: AbortSignal): Promise<string[]> {
  const text = await gitText(repo, [...WALK_CONFIG, 'rev-list', '--first-parent', '--merges', '--reverse', to, `^${from}`], { signal });
  return text.split('\n').filter(Boolean);
}

export interface CommitGraphState {
  present: boolean;
  bloom: boolean;
}

/** Does git have a commit-graph (with changed-path Bloom filters) for this repository? */
export async function commitGraphState(repo: string, signal?: AbortSignal): Promise<CommitGraphState> {
  const common = (await gitText(repo, ['rev-parse', '--git-common-dir'], { signal })).trim();
  const info = path.join(path.resolve(repo, common), 'objects', 'info');
  const files = [path.join(info, 'commit-graph')];
  try {
    for (const l of fs.readFileSync(path.join(info, 'commit-graphs', 'commit-graph-chain'), 'utf8').split('\n'))
      if (/^[0-9a-f]{40,64}$/.test(l.trim())) files.push(path.join(info, 'commit-graphs', `graph-${l.trim()}.graph`));
  } catch {
    // no split graph
  }
  let present = false;
  let bloom = false;
  for (const f of files) {
    const chunks = graphChunks(f);
    if (!chunks) continue;
    present = true;
    if (chunks.includes('BIDX') && chunks.includes('BDAT')) bloom = true;
  }
  return { present, bloom };
}

/** Chunk ids of a commit-graph file (header `CGPH`, version, hash, chunk count, then the table). */
function graphChunks(file: string): string[] | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const head = Buffer.alloc(8);
    if (fs.readSync(fd, head, 0, 8, 0) !== 8 || head.toString('latin1', 0, 4) !== 'CGPH') return null;
    const n = head[6];
    const table = Buffer.alloc(n * 12);
    fs.readSync(fd, table, 0, table.length, 8);
    return Array.from({ length: n }, (_, i) => table.toString('latin1', i * 12, i * 12 + 4));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One graph from per-path walks (git of this era uses changed-path Bloom filters for a single
 * pathspec only, so each file is walked on its own, in parallel). Every edge of each walk is
 * real ancestry and every touching commit is reachable from each ref commit in its own walk,
 * so the union answers "which touching commits does this ref contain" exactly. Order: parents
 * before children, ties in the order the walks listed them (one walk's order is kept as is).
 */
export function combineNodes(parts: PathGraphNode[][]): PathGraphNode[] {
  const byId = new Map<string, PathGraphNode>();
  const rank = new Map<string, number>();
  for (const part of parts) {
    for (const n of part) {
      const known = byId.get(n.sha);
      if (!known) {
        byId.set(n.sha, { ...n, parents: [...n.parents] });
        rank.set(n.sha, rank.size);
      } else {
        for (const p of n.parents) if (!known.parents.includes(p)) known.parents.push(p);
        known.decorated ||= n.decorated;
      }
    }
  }
  // Kahn's algorithm, taking the lowest-ranked ready node first (a binary heap on rank).
  const children = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const n of byId.values()) {
    const inside = n.parents.filter((p) => byId.has(p));
    waiting.set(n.sha, inside.length);
    for (const p of inside) (children.get(p) ?? children.set(p, []).get(p)!).push(n.sha);
  }
  const heap: string[] = [];
  const less = (a: string, b: string): boolean => rank.get(a)! < rank.get(b)!;
  const push = (x: string): void => {
    heap.push(x);
    for (let i = heap.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!less(heap[i], heap[up])) break;
      [heap[i], heap[up]] = [heap[up], heap[i]];
      i = up;
    }
  };
  const pop = (): string => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  for (const [sha, k] of waiting) if (k === 0) push(sha);
  const out: PathGraphNode[] = [];
  while (heap.length) {
    const sha = pop();
    out.push(byId.get(sha)!);
    for (const c of children.get(sha) ?? []) {
      const k = waiting.get(c)! - 1;
      waiting.set(c, k);
      if (k === 0) push(c);
    }
  }
  return out;
}

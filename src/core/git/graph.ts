// One topological walk of the commit graph above a floor, answering "which of these few
// marked commits are ancestors of each tip" for every tip at once (bit sets propagated from
// parents to children), and giving first-parent chains for ordering tags along a branch.

import { gitRun, gitText } from './run';

export class CommitGraph {
  /** Commits in the walk, parents before children. */
  readonly order: string[] = [];
  readonly index = new Map<string, number>();
  /** Parent indexes (only parents inside the walk); -1 marks a parent below the floor. */
  readonly parents: Int32Array[] = [];
  private masks: Uint32Array = new Uint32Array(0);
  private words = 0;
  marked: string[] = [];

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
      for (const p of this.parents[i]) {
        if (p < 0) continue;
        for (let k = 0; k < w; k++) m[i * w + k] |= m[p * w + k];
      }
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

  /** First-parent chain from `tip` down to the floor, tip first. */
  firstParentChain(tip: string): string[] {
    const out: string[] = [];
    let i = this.index.get(tip);
    while (i !== undefined && i >= 0) {
      out.push(this.order[i]);
      const ps = this.parents[i];
      i = ps.length ? ps[0] : undefined;
    }
    return out;
  }

  parentShas(sha: string): string[] {
    const i = this.index.get(sha);
    return i === undefined ? [] : Array.from(this.parents[i]).filter((p) => p >= 0).map((p) => this.order[p]);
  }
}

/**
 * Walks `git rev-list --topo-order --parents` from `tips`, excluding the ancestors of
 * `exclude` (a floor from floorFor). Parents below the floor are kept as -1.
 */
export async function walkGraph(repo: string, tips: string[], exclude: string[], signal?: AbortSignal): Promise<CommitGraph> {
  const g = new CommitGraph();
  if (!tips.length) return g;
  const input = [...new Set(tips), ...exclude.map((e) => `^${e}`)].join('\n') + '\n';
  const out = await gitRun(repo, ['rev-list', '--topo-order', '--reverse', '--parents', '--stdin'], { input, signal });
  const text = out.toString('latin1');
  const rows: string[][] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    const parts = text.slice(start, nl).split(' ');
    start = nl + 1;
    g.index.set(parts[0], g.order.length);
    g.order.push(parts[0]);
    rows.push(parts);
  }
  for (const parts of rows) {
    const ps = new Int32Array(parts.length - 1);
    for (let k = 1; k < parts.length; k++) ps[k - 1] = g.index.get(parts[k]) ?? -1;
    g.parents.push(ps);
  }
  return g;
}

/**
 * A common ancestor of `commits` (one of the octopus merge bases), or null when they share
 * none. The parents of such a base make a safe floor for walkGraph: no commit of the set can
 * be an ancestor of them (it would be its own ancestor), so every path from a tip down to any
 * of the set stays above the floor.
 */
export async function commonBase(repo: string, commits: string[], signal?: AbortSignal): Promise<string | null> {
  const set = [...new Set(commits)];
  if (set.length <= 1) return set[0] ?? null;
  const out = (await gitText(repo, ['merge-base', '--octopus', ...set], { signal, okCodes: [1] })).trim();
  return out ? out.split('\n')[0] : null;
}

export async function parentsOf(repo: string, commit: string, signal?: AbortSignal): Promise<string[]> {
  return (await gitText(repo, ['rev-list', '--parents', '-n', '1', commit], { signal })).trim().split(' ').slice(1);
}

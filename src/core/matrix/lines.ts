// "Where the fix entered": refs are placed on lines of development (the first-parent chain of
// each branch: the releases that branch produced, oldest first), and each line is scanned for
// the first ref that carries a fix, the refs where it was lost again, and where it came back.

import type { CommitGraph } from '../git/graph';
import type { RefInfo } from '../git/refs';
import type { VariantId } from '../types';
import type { ClassifiedCommit } from './history';
import type { FixEntered, FixKey, FixLost, FixRestored, MatrixLine, MatrixRow } from './types';
import { FIX_KEYS } from './types';

export function carries(row: MatrixRow, fix: FixKey): boolean {
  return fix === 'zone' ? row.zone.present === true : row[fix].verdict === 'fixed';
}

function variantOf(row: MatrixRow, fix: FixKey): VariantId | null {
  return fix === 'zone' ? (row.zone.present === true ? '07998281c268' : null) : row[fix].variant;
}

/** Catalogue entries whose revert takes a fix away. */
const FIX_VARIANTS: Record<FixKey, VariantId[]> = {
  race1: ['ed07d9a021df', 'azure-937963', 'rework-2020', 'reverse-2024'],
  race2: ['4e35c1cb9460', '07998281c268', 'azure-952939'],
  race3: ['rework-2020'],
  race4: ['nfqueue-2024'],
  zone: ['07998281c268', '4e35c1cb9460'],
};

/** Rows that can take part: a verdict exists (absent files neither carry nor lose a fix). */
const decidable = (r: MatrixRow): boolean => r.status === 'ok' || r.status === 'moved';

const natural = new Intl.Collator('en', { numeric: true }).compare;

/** `v4.19.29` -> `v4.19`, `Ubuntu-4.15.0-20.21` -> `Ubuntu-4.15.0-20`. */
export function seriesOf(tag: string): string {
  const s = tag.replace(/[._-]?[0-9]+$/, '');
  return s && s !== tag ? s : tag;
}

/**
 * `chains`: per branch, the tag commits on its first-parent chain, tip first (firstParentTags);
 * null when no topology is known (no walk): every tag is then placed by name series and date.
 */
export function buildLines(chains: Map<string, string[]> | null, rows: MatrixRow[], lineBranches: RefInfo[]): MatrixLine[] {
  const tagsAt = new Map<string, MatrixRow[]>();
  const byShort = new Map(rows.map((r) => [r.short, r]));
  for (const r of rows) {
    if (r.kind !== 'tag' || !r.commit || !decidable(r)) continue;
    const l = tagsAt.get(r.commit) ?? [];
    l.push(r);
    tagsAt.set(r.commit, l);
  }
  const placed = new Set<string>();
  const lines: MatrixLine[] = [];
  for (const b of chains ? [...lineBranches].sort((x, y) => natural(x.short, y.short)) : []) {
    const tagChain = b.commit ? chains!.get(b.short) : undefined;
    if (!tagChain) continue;
    const refs: string[] = [];
    for (const c of [...tagChain].reverse()) {
      const here = tagsAt.get(c);
      if (!here) continue;
      for (const t of [...here].sort((x, y) => (x.date ?? 0) - (y.date ?? 0) || natural(x.short, y.short))) {
        refs.push(t.short);
        placed.add(t.short);
      }
    }
    const own = byShort.get(b.short);
    if (own && decidable(own)) refs.push(own.short);
    if (refs.length) lines.push({ name: b.short, kind: 'branch', refs });
  }
  // Tags on no branch's chain: grouped by name series, ordered by date (no topology to use).
  const series = new Map<string, MatrixRow[]>();
  for (const r of rows) {
    if (r.kind !== 'tag' || placed.has(r.short) || !decidable(r) || !r.commit) continue;
    const s = seriesOf(r.short);
    series.set(s, [...(series.get(s) ?? []), r]);
  }
  for (const [name, rs] of [...series].sort((x, y) => natural(x[0], y[0]))) {
    rs.sort((x, y) => (x.date ?? 0) - (y.date ?? 0) || natural(x.short, y.short));
    lines.push({ name: `series:${name}`, kind: 'series', refs: rs.map((r) => r.short) });
  }
  return lines;
}

export interface LossContext {
  /** The path-simplified graph (history commits and ref commits), marked with the history commits. */
  graph: CommitGraph;
  /** Merges on `to`'s first-parent chain above `from`, oldest first. */
  firstParentMerges: (from: string, to: string) => Promise<string[]>;
  classified: Map<string, ClassifiedCommit>;
  /** Blob of the file at a commit's first parent vs at the commit, for merges (see sweep). */
  mergeChanged: (merge: string, path: string) => Promise<boolean>;
}

export async function scanLines(
  lines: MatrixLine[],
  rows: MatrixRow[],
  ctx: LossContext,
): Promise<{ entered: FixEntered[]; lost: FixLost[]; restored: FixRestored[] }> {
  const byShort = new Map(rows.map((r) => [r.short, r]));
  const entered: FixEntered[] = [];
  const lost: FixLost[] = [];
  const restored: FixRestored[] = [];
  for (const line of lines) {
    const members = line.refs.map((s) => byShort.get(s)!).filter(Boolean);
    for (const fix of FIX_KEYS) {
      let prev: MatrixRow | null = null;
      let wasEntered = false;
      let lostAt: MatrixRow | null = null;
      for (const r of members) {
        const on = carries(r, fix);
        if (on && !wasEntered) {
          entered.push({ fix, line: line.name, ref: r.short, date: r.date, variant: variantOf(r, fix) });
          wasEntered = true;
        } else if (on && lostAt) {
          restored.push({ fix, line: line.name, ref: r.short, lostAt: lostAt.short, variant: variantOf(r, fix) });
          lostAt = null;
        } else if (!on && prev && carries(prev, fix)) {
          lost.push(await explainLoss(fix, line, prev, r, ctx));
          lostAt = r;
        }
        prev = r;
      }
    }
  }
  return { entered, lost, restored };
}

async function explainLoss(fix: FixKey, line: MatrixLine, from: MatrixRow, to: MatrixRow, ctx: LossContext): Promise<FixLost> {
  const base = { fix, line: line.name, ref: to.short, lastCarrying: from.short };
  const { graph } = ctx;
  if (line.kind === 'series' || !from.commit || !to.commit)
    return { ...base, cause: 'unknown', explain: `${to.short} is dated after ${from.short} but not known to descend from it` };
  const before = new Set(graph.markedAncestors(from.commit));
  const newer = graph.markedAncestors(to.commit).filter((c) => !before.has(c));
  const revert = newer
    .map((c) => ctx.classified.get(c))
    .map((c) => c && (c.azure?.reverts ? c.azure : c.plain?.reverts ? c.plain : null))
    .find((ev) => ev && ev.variant && FIX_VARIANTS[fix].includes(ev.variant));
  if (revert) return { ...base, cause: 'revert', commit: revert.sha, explain: `reverted by ${revert.sha.slice(0, 12)} ${revert.subject}` };
  // Otherwise look for a merge on the line between the two that changed the file.
  const merges = await ctx.firstParentMerges(from.commit, to.commit);
  for (const m of merges) {
    if (await ctx.mergeChanged(m, to.path ?? from.path ?? ''))
      return {
        ...base,
        cause: 'merge',
        commit: m,
        explain: `merge ${m.slice(0, 12)} changed the file and the fix is gone (no revert in history: a bad merge resolution?)`,
      };
  }
  return {
    ...base,
    cause: 'edit',
    explain: `no revert and no merge changing the file between ${from.short} and ${to.short}: edited away (rebase or unrecognised commit)`,
  };
}

// Kept sweeps: what a sweep learnt about a repository, on disk, so the next sweep of the same
// repository and selection only pays for what moved. Reused:
// - everything, when no branch or tag moved, appeared or went (the refs fingerprint);
// - otherwise, per commit, where the files are (blob ids); per blob, its detection; the
//   path-simplified history graph and its classified commits (a new tip walks only the commits
//   above the kept tips).
// The directory is bounded (oldest files go first past a size and count limit) and can be
// emptied (pruneKept), e.g. by `conntrack-backport sweep --prune-cache`.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DetectionResult, VariantId } from '../types';
import type { ClassifiedCommit } from './history';
import type { NatScan } from './nat';
import type { Located } from './row';
import type { KeepOptions, Matrix } from './types';

/** Bumped when the kept format or anything a kept verdict depends on (detector, catalogue) changes. */
export const KEPT_VERSION = 4;
/** Default bounds of a keep directory. */
export const KEPT_MAX_BYTES = 256 << 20;
export const KEPT_MAX_FILES = 32;

export interface KeptLocation {
  loc: Located;
  nat?: { blob: string; path: string };
  nfq?: { blob: string; path: string };
}

export interface KeptSweep {
  version: number;
  key: string;
  /** Every branch, remote branch and tag with the object it names. */
  fingerprint: string;
  matrix: Matrix;
  located: [string, KeptLocation][];
  results: [string, DetectionResult][];
  natScans: [string, NatScan][];
  nfqScans?: [string, NatScan][];
  /** The history stage: the tips and paths it walked, the upstream fixes found, its graph. */
  history?: { tips: string[]; paths: string[]; upstream: string[]; nodes: [string, string[]][]; classified: ClassifiedCommit[] };
}

export type { KeepOptions };

/** What makes two sweeps comparable: repository, selection, file, overrides, stages. */
export function keptKey(
  repo: string,
  p: { refs: string[]; path: string; overrides?: Partial<Record<VariantId, string>>; history: boolean; lines: boolean },
): string {
  const o = Object.entries(p.overrides ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([KEPT_VERSION, path.resolve(repo), p.refs, p.path, o, p.history, p.lines]))
    .digest('hex')
    .slice(0, 32);
}

export function fingerprintOf(refs: { name: string; object: string }[]): string {
  const h = createHash('sha256');
  for (const r of refs) h.update(`${r.object} ${r.name}\n`);
  return h.digest('hex');
}

const fileOf = (dir: string, key: string): string => path.join(dir, `sweep-${key}.json`);

export function loadKept(dir: string, key: string): KeptSweep | null {
  try {
    const k = JSON.parse(fs.readFileSync(fileOf(dir, key), 'utf8')) as KeptSweep;
    if (k?.version !== KEPT_VERSION || k.key !== key || !k.matrix || !Array.isArray(k.matrix.rows) || !Array.isArray(k.located))
      return null;
    return k;
  } catch {
    return null;
  }
}

/** Writes beside and renames (a reader never sees half a file), then keeps the directory in bounds. */
export function saveKept(opts: KeepOptions, k: KeptSweep): string {
  fs.mkdirSync(opts.dir, { recursive: true });
  const file = fileOf(opts.dir, k.key);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(k));
  fs.renameSync(tmp, file);
  pruneKept(opts.dir, { maxBytes: opts.maxBytes ?? KEPT_MAX_BYTES, maxFiles: opts.maxFiles ?? KEPT_MAX_FILES, keep: file });
  return file;
}

export interface PruneResult {
  removed: number;
  bytesRemoved: number;
  kept: number;
  bytesKept: number;
}

/**
 * Removes kept sweeps, oldest first, until at most `maxFiles` files of at most `maxBytes` in
 * total remain (0 and 0 = empty the directory). Only this module's files are touched.
 */
export function pruneKept(dir: string, bounds: { maxBytes: number; maxFiles: number; keep?: string }): PruneResult {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { removed: 0, bytesRemoved: 0, kept: 0, bytesKept: 0 };
  }
  const files = names
    .filter((n) => /^sweep-[0-9a-f]{32}\.json(\.\d+\.tmp)?$/.test(n))
    .map((n) => {
      const f = path.join(dir, n);
      try {
        const st = fs.statSync(f);
        return { f, size: st.size, mtime: st.mtimeMs };
      } catch {
        return null;
      }
    })
    .filter((x): x is { f: string; size: number; mtime: number } => !!x)
    // Another sweep may be writing a temporary file right now: only stale ones are removed.
    .filter((x) => !x.f.endsWith('.tmp') || Date.now() - x.mtime > 10 * 60_000)
    .sort((a, b) => b.mtime - a.mtime || (a.f === bounds.keep ? -1 : 1));
  const out: PruneResult = { removed: 0, bytesRemoved: 0, kept: 0, bytesKept: 0 };
  for (const x of files) {
    const fits = out.kept < bounds.maxFiles && out.bytesKept + x.size <= bounds.maxBytes && !x.f.endsWith('.tmp');
    if (fits || (x.f === bounds.keep && bounds.maxFiles > 0)) {
      out.kept++;
      out.bytesKept += x.size;
      continue;
    }
    try {
      fs.rmSync(x.f, { force: true });
      out.removed++;
      out.bytesRemoved += x.size;
    } catch {
      // another process removed it
    }
  }
  return out;
}

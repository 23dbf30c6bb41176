// Kept sweeps: what a sweep learnt about a repository, on disk, so the next sweep of the same
// repository and selection only pays for what moved. Reused:
// - everything, when no branch or tag moved, appeared or went (the refs fingerprint);
// - otherwise, per commit, where the files are (blob ids); per blob, its detection; the
//   path-simplified history graph and its classified commits (a new tip walks only the commits
//   above the kept tips).
// Per repository, the detections of every blob any selection's sweep has seen (blobs-*.json).
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
export const KEPT_VERSION = 5;
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
  /** Each swept ref's name, object and date (dating needs the tag object: never read twice). */
  dates?: [string, string, number | null][];
  /** The lines' branches (name, commit) and the first-parent links between decorated commits. */
  lines?: { branches: [string, string][]; next: [string, string | null][] };
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

// On disk, two files per kept sweep: `sweep-<key>.json` (the fingerprint and the matrix: all a
// sweep with nothing moved reads) and `sweep-<key>.state` (blob locations, detections, history:
// read only when something moved). Both carry the same stamp; a state whose stamp differs from
// its matrix's (a writer in between) is not used, which only means a full sweep.
const fileOf = (dir: string, key: string): string => path.join(dir, `sweep-${key}.json`);
const stateOf = (dir: string, key: string): string => path.join(dir, `sweep-${key}.state`);

type KeptState = Omit<KeptSweep, 'matrix' | 'fingerprint'>;

export interface KeptHead {
  fingerprint: string;
  stamp: string;
  /** The kept matrix, parsed on demand (only a sweep with nothing moved needs it). */
  matrix: () => Matrix | null;
}

/** Where the fields before the matrix end: saveKept writes them first, in this order. */
const HEAD_PREFIX = /^\{"version":(\d+),"key":"([0-9a-f]+)","fingerprint":"([0-9a-f]+)","stamp":"([^"\\]+)","matrix":/;

/**
 * The kept matrix's refs fingerprint and stamp, read from the head of its file; the matrix
 * itself (megabytes of JSON at linux-stable size) is parsed only when asked for.
 */
export function loadKeptHead(dir: string, key: string): KeptHead | null {
  const file = fileOf(dir, key);
  let prefix: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(1024);
      prefix = b.toString('utf8', 0, fs.readSync(fd, b, 0, b.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
  const m = HEAD_PREFIX.exec(prefix);
  if (!m || Number(m[1]) !== KEPT_VERSION || m[2] !== key) return null;
  const stamp = m[4];
  return {
    fingerprint: m[3],
    stamp,
    matrix: () => {
      try {
        const k = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; key: string; stamp: string; matrix: Matrix };
        return k?.version === KEPT_VERSION && k.key === key && k.stamp === stamp && k.matrix && Array.isArray(k.matrix.rows)
          ? k.matrix
          : null;
      } catch {
        return null;
      }
    },
  };
}

/** The kept state (blob locations, detections, history, lines) of the head's stamp, or null. */
export function loadKept(dir: string, key: string, head: KeptHead | null = loadKeptHead(dir, key)): Omit<KeptSweep, 'matrix'> | null {
  if (!head) return null;
  try {
    const st = JSON.parse(fs.readFileSync(stateOf(dir, key), 'utf8')) as KeptState & { stamp: string };
    if (st?.version !== KEPT_VERSION || st.key !== key || st.stamp !== head.stamp || !Array.isArray(st.located)) return null;
    return { ...st, fingerprint: head.fingerprint };
  } catch {
    return null;
  }
}

const writeAtomic = (file: string, text: string): void => {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
};

/** Writes beside and renames (a reader never sees half a file), then keeps the directory in bounds. */
export function saveKept(opts: KeepOptions, k: KeptSweep): string {
  fs.mkdirSync(opts.dir, { recursive: true });
  const file = fileOf(opts.dir, k.key);
  const stamp = `${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const { matrix, fingerprint, ...state } = k;
  // The state first: a head always names a state written before it.
  writeAtomic(stateOf(opts.dir, k.key), JSON.stringify({ ...state, stamp }));
  writeAtomic(file, JSON.stringify({ version: k.version, key: k.key, fingerprint, stamp, matrix }));
  pruneKept(opts.dir, { maxBytes: opts.maxBytes ?? KEPT_MAX_BYTES, maxFiles: opts.maxFiles ?? KEPT_MAX_FILES, keep: file });
  return file;
}

// Per repository, every blob the sweeps of any selection have detected: `blobs-<repo>.json`,
// keyed by blob id (a blob's detection is a pure function of its bytes) under the detector's
// version (KEPT_VERSION: a stale file is ignored). Another --refs selection then detects only
// blobs no sweep of this repository has seen. Bounded and pruned with the kept sweeps.
const blobsOf = (dir: string, repo: string): string =>
  path.join(dir, `blobs-${createHash('sha256').update(path.resolve(repo)).digest('hex').slice(0, 32)}.json`);

export interface BlobDetections {
  results: Map<string, DetectionResult>;
  natScans: Map<string, NatScan>;
  nfqScans: Map<string, NatScan>;
}

interface BlobFile {
  version: number;
  repo: string;
  results: [string, DetectionResult][];
  natScans: [string, NatScan][];
  nfqScans: [string, NatScan][];
}

/** The repository's kept blob detections (empty when none, stale or unreadable). */
export function loadBlobDetections(dir: string, repo: string): BlobDetections {
  try {
    const f = JSON.parse(fs.readFileSync(blobsOf(dir, repo), 'utf8')) as BlobFile;
    if (f?.version === KEPT_VERSION && f.repo === path.resolve(repo) && Array.isArray(f.results))
      return { results: new Map(f.results), natScans: new Map(f.natScans ?? []), nfqScans: new Map(f.nfqScans ?? []) };
  } catch {
    // none yet
  }
  return { results: new Map(), natScans: new Map(), nfqScans: new Map() };
}

/** Adds detections to the repository's blob file (read, merged, written beside and renamed). */
export function addBlobDetections(opts: KeepOptions, repo: string, add: BlobDetections, known?: BlobDetections): void {
  if (!add.results.size && !add.natScans.size && !add.nfqScans.size) return;
  fs.mkdirSync(opts.dir, { recursive: true });
  const all = known ?? loadBlobDetections(opts.dir, repo);
  for (const [b, r] of add.results) all.results.set(b, r);
  for (const [b, r] of add.natScans) all.natScans.set(b, r);
  for (const [b, r] of add.nfqScans) all.nfqScans.set(b, r);
  const f: BlobFile = {
    version: KEPT_VERSION,
    repo: path.resolve(repo),
    results: [...all.results],
    natScans: [...all.natScans],
    nfqScans: [...all.nfqScans],
  };
  writeAtomic(blobsOf(opts.dir, repo), JSON.stringify(f));
}

export interface PruneResult {
  removed: number;
  bytesRemoved: number;
  kept: number;
  bytesKept: number;
}

/**
 * Removes kept sweeps (each its matrix and state file), oldest first, until at most `maxFiles`
 * sweeps of at most `maxBytes` in total remain (0 and 0 = empty the directory). Only this
 * module's files are touched; temporary files are removed once stale.
 */
export function pruneKept(dir: string, bounds: { maxBytes: number; maxFiles: number; keep?: string }): PruneResult {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { removed: 0, bytesRemoved: 0, kept: 0, bytesKept: 0 };
  }
  const groups = new Map<string, { files: string[]; size: number; mtime: number; tmp: boolean }>();
  for (const n of names) {
    const m = /^(sweep|blobs)-([0-9a-f]{32})\.(json|state)(\.\d+\.tmp)?$/.exec(n);
    if (!m) continue;
    const f = path.join(dir, n);
    let st: fs.Stats;
    try {
      st = fs.statSync(f);
    } catch {
      continue;
    }
    const tmp = !!m[4];
    // Another sweep may be writing a temporary file right now: only stale ones are removed.
    if (tmp && Date.now() - st.mtimeMs <= 10 * 60_000) continue;
    const id = tmp ? n : `${m[1]}-${m[2]}`;
    const g = groups.get(id) ?? { files: [], size: 0, mtime: 0, tmp };
    g.files.push(f);
    g.size += st.size;
    g.mtime = Math.max(g.mtime, st.mtimeMs);
    groups.set(id, g);
  }
  const isKeep = (g: { files: string[] }): boolean => !!bounds.keep && g.files.includes(bounds.keep);
  const sorted = [...groups.values()].sort((a, b) => b.mtime - a.mtime || (isKeep(a) ? -1 : isKeep(b) ? 1 : 0));
  const out: PruneResult = { removed: 0, bytesRemoved: 0, kept: 0, bytesKept: 0 };
  for (const g of sorted) {
    const fits = out.kept < bounds.maxFiles && out.bytesKept + g.size <= bounds.maxBytes && !g.tmp;
    if (fits || (isKeep(g) && bounds.maxFiles > 0)) {
      out.kept++;
      out.bytesKept += g.size;
      continue;
    }
    for (const f of g.files) fs.rmSync(f, { force: true });
    out.removed++;
    out.bytesRemoved += g.size;
  }
  return out;
}

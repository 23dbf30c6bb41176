// The last sweep of a repository and ref selection, kept on disk so a matrix view restored after
// a window reload shows it at once instead of sweeping again. It is only reused while every
// ref still points where it pointed (the fingerprint); otherwise the view sweeps again.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gitText } from '../git/run';
import type { Matrix } from './types';

/** File name for one (repository, selection): a hash, so no part of either reaches a path. */
export function cacheFileName(repo: string, refs: string[]): string {
  return (
    'matrix-' +
    createHash('sha256')
      .update(JSON.stringify([path.resolve(repo), refs]))
      .digest('hex')
      .slice(0, 32) +
    '.json'
  );
}

/** Every ref and the object it names: any branch or tag moving, appearing or going changes it. */
export async function refsFingerprint(repo: string, signal?: AbortSignal): Promise<string> {
  const out = await gitText(repo, ['for-each-ref', '--format=%(objectname) %(refname)'], { signal });
  return createHash('sha256').update(out).digest('hex');
}

interface CacheFile {
  version: 1;
  fingerprint: string;
  matrix: Matrix;
}

export function saveMatrix(dir: string, m: Matrix, refs: string[], fingerprint: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, cacheFileName(m.repo, refs));
  // Written beside and renamed, so a reload in the middle never reads half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ version: 1, fingerprint, matrix: m } satisfies CacheFile));
  fs.renameSync(tmp, file);
  return file;
}

/** The kept matrix when it is for this repository and selection and the refs have not moved. */
export function loadMatrix(dir: string, repo: string, refs: string[], fingerprint: string): Matrix | null {
  let c: CacheFile;
  try {
    c = JSON.parse(fs.readFileSync(path.join(dir, cacheFileName(repo, refs)), 'utf8')) as CacheFile;
  } catch {
    return null;
  }
  if (c?.version !== 1 || c.fingerprint !== fingerprint || !c.matrix || !Array.isArray(c.matrix.rows)) return null;
  if (path.resolve(c.matrix.repo) !== path.resolve(repo)) return null;
  return c.matrix;
}

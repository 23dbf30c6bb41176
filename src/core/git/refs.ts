// Listing the refs a sweep covers: branches, remote branches and tags, with the commit they
// point at (tags peeled) and their date (tagger date for annotated tags, committer date
// otherwise), selected by glob patterns matched against the short or the full name.

import { refusesOption } from './reader';
import { gitText } from './run';
import { batchCheck } from './catfile';

import type { RefKind } from './refKind';
export type { RefKind } from './refKind';

export interface RefInfo {
  /** Full name, e.g. refs/tags/v4.19.29. */
  name: string;
  /** Short name as users type it: v4.19.29, linux-4.19.y, origin/master. */
  short: string;
  kind: RefKind;
  /** Object the ref points at (a tag object for annotated tags). */
  object: string;
  /** Commit after peeling tags; null when the ref does not lead to a commit (a tree tag). */
  commit: string | null;
  /** Unix seconds: tagger date of an annotated tag, else the commit's committer date. */
  date: number | null;
}

const KIND_PREFIX: [string, RefKind][] = [
  ['refs/heads/', 'branch'],
  ['refs/remotes/', 'remote'],
  ['refs/tags/', 'tag'],
];

/**
 * Glob to RegExp: `*` and `?` match any characters including `/` (so `v4.*` covers
 * `v4.19.29` and `Ubuntu-*` covers `Ubuntu-4.15.0-20.21`), `[...]` is a character class.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Does a ref match the selection? Patterns match the short or the full name; the words
 * `branches`, `tags`, `remotes` and `all` select whole kinds. No patterns = branches and tags.
 */
export function refMatcher(patterns: string[] | undefined): (r: Pick<RefInfo, 'name' | 'short' | 'kind'>) => boolean {
  const ps = (patterns ?? []).filter((p) => p.trim());
  for (const p of ps) refusesOption(p);
  if (!ps.length) return (r) => r.kind !== 'remote';
  const tests = ps.map((p) => {
    if (p === 'all') return () => true;
    if (p === 'branches') return (r: Pick<RefInfo, 'kind'>) => r.kind === 'branch';
    if (p === 'remotes') return (r: Pick<RefInfo, 'kind'>) => r.kind === 'remote';
    if (p === 'tags') return (r: Pick<RefInfo, 'kind'>) => r.kind === 'tag';
    const re = globToRegExp(p);
    return (r: Pick<RefInfo, 'name' | 'short'>) => re.test(r.short) || re.test(r.name);
  });
  return (r) => tests.some((t) => t(r));
}

const F = '%00';

/**
 * The same refs as listAllRefs with only the object each names: git answers from the ref store
 * alone (packed-refs), without reading one object, so it costs the same on a cold page cache.
 */
export async function listRefObjects(repo: string, signal?: AbortSignal): Promise<{ name: string; object: string }[]> {
  const out = await gitText(
    repo,
    ['for-each-ref', `--format=%(refname)${F}%(objectname)${F}%(symref)`, 'refs/heads', 'refs/remotes', 'refs/tags'],
    {
      signal,
    },
  );
  const refs: { name: string; object: string }[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [name, object, symref] = line.split('\0');
    if (!symref && KIND_PREFIX.some(([p]) => name.startsWith(p))) refs.push({ name, object });
  }
  return refs;
}

/** Every branch, remote branch and tag of the repository (symbolic refs such as origin/HEAD skipped). */
export async function listAllRefs(repo: string, signal?: AbortSignal): Promise<RefInfo[]> {
  const fmt = ['%(refname)', '%(objecttype)', '%(objectname)', '%(*objecttype)', '%(*objectname)', '%(creatordate:unix)', '%(symref)'].join(
    F,
  );
  const out = await gitText(repo, ['for-each-ref', `--format=${fmt}`, 'refs/heads', 'refs/remotes', 'refs/tags'], { signal });
  const refs: RefInfo[] = [];
  const unpeeled: RefInfo[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [name, type, object, ptype, pobject, date, symref] = line.split('\0');
    if (symref) continue;
    const kp = KIND_PREFIX.find(([p]) => name.startsWith(p));
    if (!kp) continue;
    const r: RefInfo = { name, short: name.slice(kp[0].length), kind: kp[1], object, commit: null, date: date ? Number(date) : null };
    if (type === 'commit') r.commit = object;
    else if (type === 'tag' && ptype === 'commit') r.commit = pobject;
    else if (type === 'tag') unpeeled.push(r); // a tag of a tag: peel fully below
    refs.push(r);
  }
  if (unpeeled.length) {
    const answers = await batchCheck(
      repo,
      unpeeled.map((r) => `${r.object}^{commit}`),
      signal,
    );
    answers.forEach((a, i) => (unpeeled[i].commit = a.type === 'commit' ? a.sha : null));
  }
  return refs;
}

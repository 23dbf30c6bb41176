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

/** Sets `commit` of refs whose tag names another tag: peeled to the end in one batch-check (null when no commit). */
async function peelFully(repo: string, unpeeled: RefInfo[], signal?: AbortSignal): Promise<void> {
  if (!unpeeled.length) return;
  const answers = await batchCheck(
    repo,
    unpeeled.map((r) => `${r.object}^{commit}`),
    signal,
  );
  answers.forEach((a, i) => (unpeeled[i].commit = a.type === 'commit' ? a.sha : null));
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
  await peelFully(repo, unpeeled, signal);
  return refs;
}

/**
 * Every branch, remote branch and tag with the commit it leads to, without reading the tag
 * objects where git keeps the peeled value beside the ref: `show-ref -d` answers annotated tags
 * from packed-refs' `^` lines (a clone's and `git pack-refs`' refs), where `for-each-ref
 * %(*objectname)` parses each tag object (ref-filter's get_object: 2,000 random pack reads on
 * a cold page cache). Loose annotated tags are peeled by show-ref from their object. One
 * batch-check then gives the type of the objects that still need one (what a ref or its peeled
 * tag names: commit, or a tree/blob tag), which resolution reads next anyway. `date` is null
 * here: refDates fills it, beside the rest of the sweep.
 */
export async function listRefsUndated(repo: string, signal?: AbortSignal, listed?: { name: string; object: string }[]): Promise<RefInfo[]> {
  const [objects, shown] = await Promise.all([
    listed ?? listRefObjects(repo, signal),
    gitText(repo, ['show-ref', '-d'], { signal, okCodes: [1] }),
  ]);
  const named = new Map(objects.map((o) => [o.name, o.object]));
  const peeled = new Map<string, string>();
  let last: { name: string; object: string } | null = null;
  for (const line of shown.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const name = line.slice(sp + 1);
    const oid = line.slice(0, sp);
    // A peeled line follows its ref's line; it counts only for the object listed (a tag that
    // moved between the two listings is peeled below from its object instead).
    if (name.endsWith('^{}')) {
      if (last && last.name === name.slice(0, -3) && named.get(last.name) === last.object) peeled.set(last.name, oid);
    } else last = { name, object: oid };
  }
  const refs: RefInfo[] = [];
  const target: string[] = [];
  for (const { name, object } of objects) {
    const kp = KIND_PREFIX.find(([p]) => name.startsWith(p))!;
    refs.push({ name, short: name.slice(kp[0].length), kind: kp[1], object, commit: null, date: null });
    target.push(peeled.get(name) ?? object);
  }
  const distinct = [...new Set(target)];
  const answers = await batchCheck(repo, distinct, signal);
  const typeOf = new Map(distinct.map((o, i) => [o, answers[i].type]));
  const unpeeled: RefInfo[] = [];
  refs.forEach((r, i) => {
    const t = typeOf.get(target[i]);
    if (t === 'commit') r.commit = target[i];
    else if (t === 'tag') unpeeled.push(r); // show-ref peeled nothing here (a ref store without it)
  });
  await peelFully(repo, unpeeled, signal);
  return refs;
}

/**
 * Dates of the named refs as listAllRefs gives them (tagger date of an annotated tag, else the
 * committer date), keyed by ref name: one for-each-ref over just these refs (it reads each tag
 * object and commit named). Refs outside `refs/` or gone meanwhile are simply not answered.
 */
export async function refDates(
  repo: string,
  names: string[],
  signal?: AbortSignal,
): Promise<Map<string, { object: string; date: number | null }>> {
  const out = new Map<string, { object: string; date: number | null }>();
  // Patterns are the full names (for-each-ref matches a pattern as a prefix at a '/' boundary:
  // only answers whose name is one asked for are taken). Sent in chunks to bound the command line.
  const asked = new Set(names);
  for (let i = 0; i < names.length; i += 2000) {
    const chunk = names.slice(i, i + 2000).filter((n) => n.startsWith('refs/') && !n.startsWith('refs/-'));
    if (!chunk.length) continue;
    const text = await gitText(repo, ['for-each-ref', `--format=%(refname)${F}%(objectname)${F}%(creatordate:unix)`, '--', ...chunk], {
      signal,
    });
    for (const line of text.split('\n')) {
      const [name, object, date] = line.split('\0');
      if (name && asked.has(name)) out.set(name, { object, date: date ? Number(date) : null });
    }
  }
  return out;
}

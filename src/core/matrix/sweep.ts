// The sweep: nf_conntrack_core.c at every selected branch and tag, without a checkout.
// Refs -> commits (for-each-ref, tags peeled) -> blob ids (one cat-file --batch-check) ->
// each DISTINCT blob read once through one long-lived cat-file --batch and detected once (and
// nf_nat_core.c beside it: resolved in the same batch-check, each distinct blob scanned once
// through the same cat-file) -> history joined per ref from the path-simplified graph git
// walks (commits touching the files plus ref commits, a few thousand nodes at any scale;
// patch-ids against upstream fixes present in the repository) -> lines from first-parent
// placement of tags (streamed, stopping where chains join) and entered/lost.
// With `keep`, the sweep is kept on disk and the next one only pays for what moved (kept.ts).

import * as path from 'node:path';
import { CORE_REL_PATH } from '../detect/input';
import { joinHistory } from '../detect';
import { batchCheck, batchCheckEach, CatFileBatch, CatFileObject } from '../git/catfile';
import {
  combineNodes,
  CommitGraph,
  commitGraphState,
  chainsFrom,
  firstParentLinks,
  firstParentMerges,
  firstTouching,
  PathGraphNode,
  unreachableFrom,
  walkPathGraph,
} from '../git/graph';
import { listRefObjects, listRefsUndated, refDates, refMatcher, RefInfo } from '../git/refs';
import { gitText } from '../git/run';
import type { DetectionResult } from '../types';
import { classifyAll, ClassifiedCommit, historyForCommit, mergeClassified } from './history';
import {
  addBlobDetections,
  BlobDetections,
  fingerprintOf,
  KEPT_VERSION,
  KeptSweep,
  keptKey,
  loadBlobDetections,
  loadKept,
  loadKeptHead,
  saveKept,
} from './kept';
import { besidePath, NAT_FILE, natPathFor, NatScan, NFQUEUE_FILE, scanNatBlob, scanNfqueueBlob, withRelated } from './nat';
import { patchIdMatches, upstreamIds } from './patchid';
import { buildLines, scanLines } from './lines';
import { buildRow, Located } from './row';
import { DetectPool } from './detectPool';
import type { HistoryMark, Matrix, MatrixRow, SweepOptions, SweepProgress } from './types';

/** Blob requests kept in flight ahead of the detector. */
const PREFETCH = 6;
/** Fewer new blobs than this are detected in this thread (starting workers would cost more). */
const FEW_BLOBS = 8;
/** A first sweep of at least this many commits starts its detection workers at once. */
const EARLY_POOL = 64;
/** New tips an incremental history walk takes (more: the whole walk again). */
const INCREMENTAL_TIPS = 64;
/** `rev-list -n1` lookups run at once (commits whose file content recurs in its history). */
const HEAD_LOOKUPS = 3;

/** The file's name before 2.6.15 (IPv4-only conntrack): its presence explains an absent row. */
const PREDECESSOR = 'net/ipv4/netfilter/ip_conntrack_core.c';

export class SweepCancelled extends Error {
  constructor() {
    super('sweep cancelled');
  }
}

function checkPath(p: string): void {
  if (!p || /[\n\r]/.test(p) || p.startsWith('-') || p.startsWith('/'))
    throw new Error(`not a path inside the repository: ${JSON.stringify(p)}`);
}

/** Natural order of ref names (v4.9 before v4.19); one collator (localeCompare would build one per call). */
const natural = new Intl.Collator('en', { numeric: true }).compare;
const KIND_ORDER = { branch: 0, remote: 1, tag: 2 } as const;

export async function sweep(repo: string, opts: SweepOptions = {}): Promise<Matrix> {
  const pools: DetectPool[] = [];
  try {
    return await sweepWith(repo, opts, (threads) => {
      const p = new DetectPool({ threads });
      pools.push(p);
      return p;
    });
  } catch (e) {
    // Whichever stage noticed first (a git process killed by the signal, the detector), an
    // aborted sweep ends the same way.
    if (opts.signal?.aborted && !(e instanceof SweepCancelled)) throw new SweepCancelled();
    throw e;
  } finally {
    // Workers stop whatever happened (cancel, a failed git): none outlives its sweep.
    for (const p of pools) p.close();
  }
}

async function sweepWith(repo: string, opts: SweepOptions, newPool: (threads?: number) => DetectPool): Promise<Matrix> {
  const t0 = performance.now();
  const signal = opts.signal;
  const primary = opts.path ?? CORE_REL_PATH;
  checkPath(primary);
  upstreamIds(opts.overrides); // refuses a non-hex override before any git runs
  const match = refMatcher(opts.refs); // refuses option-like patterns before any git runs
  const warnings: string[] = [];
  const hints: string[] = [];
  const history = opts.history !== false;
  const wantLines = opts.lines !== false;
  let refsTotal = 0;
  const report = (p: SweepProgress): void => {
    if (!opts.onProgress) return;
    const secs = (performance.now() - t0) / 1000;
    opts.onProgress({
      ...p,
      refs: refsTotal,
      elapsedMs: secs * 1000,
      refsPerSecond: p.refsDone !== undefined && secs > 0 ? p.refsDone / secs : undefined,
    });
  };
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

  // 1. refs, and the kept sweep when the refs have not moved at all
  report({ phase: 'refs', done: 0, total: 1, message: 'listing refs' });
  const key = opts.keep
    ? keptKey(repo, { refs: opts.refs ?? [], path: primary, overrides: opts.overrides, history, lines: wantLines })
    : '';
  // The kept matrix alone answers when nothing moved: the refs' objects (from the ref store,
  // no object read) are compared first, and the rest of the kept sweep is read only otherwise.
  const head = opts.keep ? loadKeptHead(opts.keep.dir, key) : null;
  const keptAnswer = (): Matrix | null => {
    const m = head?.matrix();
    if (!m) return null;
    ms.refs = ms.total = performance.now() - t0;
    report({ phase: 'lines', done: 1, total: 1, refsDone: m.rows.length, message: 'done (kept sweep: no ref moved)' });
    return { ...m, stats: { ...m.stats, reusedRefs: m.rows.length, ms } };
  };
  const objects = await listRefObjects(repo, signal);
  if (head && head.fingerprint === fingerprintOf(objects)) {
    const m = keptAnswer();
    if (m) return m;
  }
  const all = await listRefsUndated(repo, signal, objects);
  const selected = all.filter(match);
  refsTotal = selected.length;
  if (!selected.length) warnings.push(`no ref matches ${JSON.stringify(opts.refs ?? [])}`);
  const commits = [...new Set(selected.map((r) => r.commit).filter((c): c is string => !!c))];
  const fingerprint = fingerprintOf(all);
  tick('refs');
  cancelled();
  const kept = opts.keep && head ? loadKept(opts.keep.dir, key, head) : null;

  // Ref dates (tagger date of an annotated tag, else the committer date) need the tag objects:
  // they are read beside the rest of the sweep and only for refs whose object the kept sweep
  // did not date (a tag object never changes, nor a commit).
  const knownDates = new Map((kept?.dates ?? []).map(([n, o, d]) => [n, { object: o, date: d }]));
  const undated: RefInfo[] = [];
  for (const r of selected) {
    const k = knownDates.get(r.name);
    if (k && k.object === r.object) r.date = k.date;
    else undated.push(r);
  }
  const dating = undated.length
    ? refDates(
        repo,
        undated.map((r) => r.name),
        signal,
      ).then((m) => {
        for (const r of undated) {
          const d = m.get(r.name);
          if (d && d.object === r.object) r.date = d.date;
        }
      })
    : Promise.resolve();
  dating.catch(() => undefined); // awaited before the rows are built unless the sweep stops first

  // A first sweep of many commits detects many blobs: the workers start now and compile their
  // parser while the blobs are resolved. Otherwise they start only when enough blobs are new.
  let pool: DetectPool | null = !kept && commits.length >= EARLY_POOL ? newPool(opts.detectThreads) : null;

  // The history walks start now, one per file (git uses Bloom filters for one path at a time),
  // and run beside blob resolution and detection: on two cores git walks while node detects.
  const lineBranches = pickLineBranches(all, selected);
  const tips = [...new Set([...commits, ...lineBranches.map((b) => b.commit!).filter(Boolean)])];
  const h = kept?.history;
  const keptTips = new Set(h?.tips ?? []);
  const newTips = tips.filter((t) => !keptTips.has(t));
  const walks = new Map<string, Promise<PathGraphNode[] | null>>();
  const walk = (mode: 'full' | 'inc', p: string): Promise<PathGraphNode[] | null> => {
    const k = `${mode} ${p}`;
    let w = walks.get(k);
    if (!w) {
      // An incremental walk that fails (a kept tip is gone) just means the whole walk again.
      w =
        mode === 'full'
          ? walkPathGraph(repo, tips, [p], { signal })
          : walkPathGraph(repo, newTips, [p], { exclude: h!.tips, signal }).catch(() => null);
      w.catch(() => undefined); // awaited below unless the sweep stops first
      walks.set(k, w);
    }
    return w;
  };
  if (history && commits.length && !(h && !newTips.length))
    for (const p of [primary, natPathFor(primary)]) void walk(h ? 'inc' : 'full', p);
  // So does the first-parent walk that places tags on lines, for every tag commit (the chains
  // are narrowed to the tags whose file was found once the rows are known).
  const lineBranchList = [...lineBranches].sort((x, y) => natural(x.short, y.short)).map((b) => ({ name: b.short, commit: b.commit! }));
  // A kept sweep's links serve while no line's branch moved and every tag commit is either
  // already linked or on no branch at all (a new release tagged above a branch's tip).
  const tagCommits = [...new Set(selected.filter((r) => r.kind === 'tag' && r.commit).map((r) => r.commit!))];
  const keptLinks = kept?.lines;
  let linesWalk = 'none';
  const linksTask =
    wantLines && history
      ? (async (): Promise<Map<string, string | null>> => {
          if (
            keptLinks &&
            keptLinks.branches.length === lineBranchList.length &&
            keptLinks.branches.every(([n, c], i) => lineBranchList[i].name === n && lineBranchList[i].commit === c)
          ) {
            const next = new Map(keptLinks.next);
            const unknown = tagCommits.filter((c) => !next.has(c));
            const off =
              unknown.length && unknown.length <= INCREMENTAL_TIPS
                ? await unreachableFrom(
                    repo,
                    unknown,
                    lineBranchList.map((b) => b.commit),
                    signal,
                  )
                : new Set<string>();
            if (unknown.every((c) => off.has(c))) {
              linesWalk = 'kept';
              return next;
            }
          }
          linesWalk = 'full';
          return firstParentLinks(repo, lineBranchList, signal);
        })()
      : null;
  linksTask?.catch(() => undefined); // awaited in the lines stage unless the sweep stops first

  // 2+3. blob ids at the primary path (then other paths the file has had) for commits not kept,
  // streamed into detection: each distinct blob (conntrack, NAT, nfqueue) is read and detected
  // as soon as the batch-check names it, while git resolves the rest and walks the history.
  const located = new Map<string, Located>();
  const natAt = new Map<string, { blob: string; path: string }>();
  const nfqAt = new Map<string, { blob: string; path: string }>();
  for (const [c, k] of kept?.located ?? []) {
    located.set(c, k.loc);
    if (k.nat) natAt.set(c, k.nat);
    if (k.nfq) nfqAt.set(c, k.nfq);
  }
  const fresh = commits.filter((c) => !located.has(c));
  report({ phase: 'resolve', done: 0, total: fresh.length, refsDone: 0, message: `resolving ${primary} at ${fresh.length} commits` });
  const natPrimary = natPathFor(primary);
  const nfqPrimary = besidePath(primary, NFQUEUE_FILE);

  // Per kind (0 conntrack, 1 NAT, 2 nfqueue): blob -> path it was first found at (the report's
  // file field), its result, and what a kept sweep already knew.
  const blobs = new Map<string, string>();
  const natBlobs = new Map<string, string>();
  const nfqBlobs = new Map<string, string>();
  const results = new Map<string, DetectionResult>();
  const natScans = new Map<string, NatScan>();
  const nfqScans = new Map<string, NatScan>();
  const seenOf = [blobs, natBlobs, nfqBlobs];
  const keptOf: Map<string, DetectionResult | NatScan>[] = [
    new Map(kept?.results ?? []),
    new Map(kept?.natScans ?? []),
    new Map(kept?.nfqScans ?? []),
  ];
  const resultOf: Map<string, DetectionResult | NatScan>[] = [results, natScans, nfqScans];
  // Blobs any earlier sweep of this repository detected (another selection): read on the first
  // blob the kept sweep of this selection does not know.
  let cached: BlobDetections | null = null;
  const blobCache = (): Map<string, DetectionResult | NatScan>[] | null => {
    if (!opts.keep) return null;
    cached ??= loadBlobDetections(opts.keep.dir, repo);
    return [cached.results, cached.natScans, cached.nfqScans];
  };
  // For progress only: a ref (short name) at which each blob is found, named as the sweep's place.
  const refAtCommit = new Map<string, string>();
  for (const r of selected) if (r.commit && !refAtCommit.has(r.commit)) refAtCommit.set(r.commit, r.short);
  const refOfBlob = new Map<string, string>();

  interface Item {
    id: string;
    kind: 0 | 1 | 2;
    file: string;
  }
  const items: Item[] = [];
  let coreNew = 0;
  const want = (kind: 0 | 1 | 2, id: string, file: string, commit: string): void => {
    const at = refAtCommit.get(commit);
    if (at && !refOfBlob.has(id)) refOfBlob.set(id, at);
    if (seenOf[kind].has(id)) return;
    seenOf[kind].set(id, file);
    const known = keptOf[kind].get(id) ?? blobCache()?.[kind].get(id);
    if (known) resultOf[kind].set(id, known);
    else {
      items.push({ id, kind, file });
      if (kind === 0) coreNew++;
      feed();
    }
  };
  for (const c of commits) {
    const l = located.get(c);
    if (!l) continue;
    if (l.blob && l.path) want(0, l.blob, l.path, c);
    const n = natAt.get(c);
    if (n) want(1, n.blob, n.path, c);
    const q = nfqAt.get(c);
    if (q) want(2, q.blob, q.path, c);
  }

  // The reader/detector: blobs are read in the order they were named, a few ahead; each
  // conntrack blob goes to the detection pool as soon as it is read, NAT and nfqueue blobs are
  // scanned here (a regex pass). It waits for more names until the resolution is over.
  let resolved = false;
  let wake: (() => void) | null = null;
  let cat: CatFileBatch | null = null;
  let ahead = 0;
  let issued = 0;
  let consumed = 0;
  let parsedNow = 0;
  const reads: (Promise<CatFileObject | null> | undefined)[] = [];
  function feed(): void {
    while (cat && issued < items.length && issued < consumed + ahead) {
      const p = cat.read(items[issued].id);
      p.catch(() => undefined); // a cancelled sweep leaves reads nobody awaits
      reads[issued++] = p;
    }
    const w = wake;
    wake = null;
    w?.();
  }
  const detectAll = async (p: DetectPool): Promise<void> => {
    const detecting = new Set<Promise<void>>();
    let done = 0;
    const progress = (id: string): void => {
      done++;
      const total = items.length;
      if (done % 16 === 0 || (resolved && done === total))
        report({
          phase: 'detect',
          done,
          total,
          refsDone: Math.round((selected.length * done) / Math.max(total, 1) / 2),
          message: `detecting blob ${done} of ${total}${resolved ? '' : '+'}`,
          current: refOfBlob.get(id),
        });
    };
    for (;;) {
      if (consumed >= items.length) {
        if (resolved) break;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const i = consumed;
      const obj = await reads[i];
      delete reads[i];
      consumed++;
      feed();
      cancelled();
      const { id, kind, file } = items[i];
      if (!obj) {
        warnings.push(`blob ${id} could not be read`);
        progress(id);
        continue;
      }
      if (kind !== 0) {
        if (kind === 1) natScans.set(id, scanNatBlob(obj.content, file));
        else nfqScans.set(id, scanNfqueueBlob(obj.content, file));
        progress(id);
        continue;
      }
      const d: Promise<void> = p.detect(obj.content, file).then((r) => {
        results.set(id, r);
        parsedNow++;
        progress(id);
      });
      detecting.add(d);
      void d.then(
        () => detecting.delete(d),
        () => undefined,
      );
      // Blob contents wait in memory only a few at a time.
      if (detecting.size >= ahead) await Promise.race(detecting);
    }
    await Promise.all(detecting);
  };
  let detecting: Promise<void> | null = null;
  const startDetect = (p: DetectPool): void => {
    cat = new CatFileBatch(repo);
    ahead = PREFETCH + 2 * p.threads;
    feed();
    detecting = detectAll(p);
    detecting.catch(() => undefined); // awaited below unless the resolution fails first
  };
  try {
    // A first sweep with its pool started detects while it resolves; otherwise (a few new
    // commits) the pool's size waits for the number of new blobs.
    if (pool) startDetect(pool);
    if (fresh.length) {
      // One batch-check answers the three files at every commit: the conntrack file, the NAT
      // file and nfnetlink_queue.c beside it (race 4 reads it, as detectPath does).
      const missing: string[] = [];
      const triple = [primary, natPrimary, nfqPrimary];
      await batchCheckEach(
        repo,
        fresh.flatMap((c) => triple.map((p) => `${c}:${p}`)),
        (a, k) => {
          const c = fresh[(k / 3) | 0];
          const slot = k % 3;
          if (slot === 0) {
            if (a.type === 'blob' && a.sha) {
              located.set(c, { blob: a.sha, path: primary, status: 'ok' });
              want(0, a.sha, primary, c);
            } else missing.push(c);
          } else if (a.type === 'blob' && a.sha && located.get(c)?.path === primary) {
            const x = { blob: a.sha, path: triple[slot] };
            (slot === 1 ? natAt : nfqAt).set(c, x);
            want(slot as 1 | 2, a.sha, x.path, c);
          }
        },
        signal,
      );
      if (missing.length) {
        const moved = await findMoved(repo, missing, primary, signal);
        for (const [c, loc] of moved) located.set(c, loc);
        // Files beside a conntrack file found elsewhere: asked once more, all together.
        const elsewhere = missing.filter((c) => located.get(c)?.blob);
        for (const c of elsewhere) want(0, located.get(c)!.blob!, located.get(c)!.path!, c);
        const beside = await batchCheck(
          repo,
          elsewhere.flatMap((c) => [NAT_FILE, NFQUEUE_FILE].map((n) => `${c}:${besidePath(located.get(c)!.path!, n)}`)),
          signal,
        );
        elsewhere.forEach((c, i) => {
          for (const slot of [1, 2] as const) {
            const a = beside[2 * i + slot - 1];
            if (a.type !== 'blob' || !a.sha) continue;
            const x = { blob: a.sha, path: besidePath(located.get(c)!.path!, slot === 1 ? NAT_FILE : NFQUEUE_FILE) };
            (slot === 1 ? natAt : nfqAt).set(c, x);
            want(slot, a.sha, x.path, c);
          }
        });
      }
    }
    resolved = true;
    feed();
    tick('resolve');
    cancelled();
    if (!pool && items.length) {
      pool = newPool(coreNew >= FEW_BLOBS ? opts.detectThreads : 0);
      startDetect(pool);
    }
  } catch (e) {
    (cat as CatFileBatch | null)?.close();
    throw e;
  }
  const pathsSeen = new Set([primary]);
  for (const c of commits) {
    const p = located.get(c)?.path;
    if (p) pathsSeen.add(p);
  }

  // 4. history, beside detection: the path-simplified graph (commits touching the files and ref
  // commits), its touching commits classified once. It needs where the files are, not what
  // they say: it runs while the detector is busy, and each ref's share is joined afterwards.
  const historyTask = (async (): Promise<{
    graph: CommitGraph;
    classified: ClassifiedCommit[];
    keptHistory: KeptSweep['history'];
    walked: string;
  }> => {
    let classified: ClassifiedCommit[] = [];
    let walked = 'none';
    if (!history || !commits.length) return { graph: new CommitGraph(), classified, keptHistory: undefined, walked };
    // detectPath reads the history of both files; so does the sweep where the NAT file exists.
    const logPaths = [...pathsSeen, ...new Set(commits.map((c) => natAt.get(c)?.path).filter((p): p is string => !!p))];
    const state = await commitGraphState(repo, signal).catch(() => ({ present: false, bloom: false }));
    if (!state.bloom)
      hints.push(
        `git has no commit-graph${state.present ? ' with changed-path Bloom filters' : ''} here: history walks read every commit. \`git commit-graph write --reachable --changed-paths\` makes them several times faster.`,
      );
    const upstream = await presentUpstream(repo, opts.overrides, signal);
    let nodes: [string, string[]][] | null = null;
    // Where each swept commit's files come from: the nearest commit of each file's history.
    const pathsAt = (c: string): { path: string; blob: string }[] => {
      const l = located.get(c);
      const n = natAt.get(c);
      return [...(l?.blob && l.path ? [{ path: l.path, blob: l.blob }] : []), ...(n ? [n] : [])].filter((x) => logPaths.includes(x.path));
    };
    if (h && sameList(h.paths, logPaths) && sameList(h.upstream, upstream)) {
      if (!newTips.length) {
        nodes = h.nodes;
        classified = h.classified;
        walked = 'kept';
      } else if (newTips.length <= INCREMENTAL_TIPS) {
        // Only the commits above the kept tips; any boundary the kept graph does not know (or a
        // new ref whose file comes from a commit it does not hold) means the kept graph cannot
        // take them, and the whole walk runs again.
        const parts = await Promise.all(logPaths.map((p) => walk('inc', p)));
        if (parts.every((x): x is PathGraphNode[] => !!x)) {
          const more = combineNodes(parts);
          const keptIds = new Set(h.nodes.map((n) => n[0]));
          const ids2 = new Set([...keptIds, ...more.map((n) => n.sha)]);
          const added = commits.filter((c) => !keptIds.has(c));
          if (more.every((n) => n.parents.every((p) => ids2.has(p)))) {
            const heads = await headsOf(repo, added, pathsAt, logPaths, parts, false, signal);
            if ([...heads.values()].every((hs) => hs.every((x) => ids2.has(x)))) {
              const add = combineNodes([more, synthetic(added, heads)]);
              nodes = [...h.nodes, ...add.map((n) => [n.sha, n.parents] as [string, string[]])];
              classified = [...h.classified, ...(await classifyNodes(repo, more, logPaths, opts.overrides, signal))];
              walked = `incremental (${more.length} new nodes)`;
            }
          }
        }
      }
    }
    if (!nodes) {
      const parts = (await Promise.all(logPaths.map((p) => walk('full', p)))) as PathGraphNode[][];
      cancelled();
      const heads = await headsOf(repo, commits, pathsAt, logPaths, parts, true, signal);
      nodes = combineNodes([...parts, synthetic(commits, heads)]).map((n) => [n.sha, n.parents]);
      classified = await classifyNodes(repo, combineNodes(parts), logPaths, opts.overrides, signal);
      walked = 'full';
    }
    const graph = CommitGraph.of(nodes.map(([sha, parents]) => ({ sha, parents })));
    graph.mark(classified.map((c) => c.sha));
    return { graph, classified, keptHistory: { tips, paths: logPaths, upstream, nodes, classified }, walked };
  })();
  historyTask.catch(() => undefined); // awaited after detection unless the sweep stops first

  if (detecting) {
    try {
      await detecting;
      cancelled();
    } finally {
      (cat as CatFileBatch | null)?.close();
      pool?.close(); // the workers' memory goes back before the join
    }
  } else report({ phase: 'detect', done: 0, total: 0, refsDone: 0, message: 'every blob was detected before (kept sweep)' });
  tick('detect');
  cancelled();
  // The source layer with the NAT and nfqueue scans joined, per distinct (conntrack, NAT, nfqueue) blobs.
  const sourceResults = new Map<string, DetectionResult | null>();
  const sourceFor = (commit: string): DetectionResult | null => {
    const blob = located.get(commit)?.blob;
    const base = blob ? results.get(blob) : undefined;
    if (!base) return null;
    const nat = natAt.get(commit)?.blob;
    const nfq = nfqAt.get(commit)?.blob;
    const k = `${blob}|${nat ?? ''}|${nfq ?? ''}`;
    if (!sourceResults.has(k))
      sourceResults.set(k, withRelated(base, nat ? natScans.get(nat) : undefined, nfq ? nfqScans.get(nfq) : undefined));
    return sourceResults.get(k)!;
  };

  report({ phase: 'history', done: 0, total: 1, refsDone: Math.round(selected.length / 2), message: 'reading history of the file' });
  const { graph, classified, keptHistory, walked } = await historyTask;
  const byId = new Map(classified.map((c) => [c.sha, c]));
  cancelled();

  await dating;
  const joined = new Map<string, { result: DetectionResult; marks: HistoryMark[] }>();
  const rows: MatrixRow[] = [];
  for (const ref of selected) {
    const loc: Located = ref.commit
      ? (located.get(ref.commit) ?? { blob: null, path: null, status: 'absent' })
      : { blob: null, path: null, status: 'no-commit', note: 'the ref does not point at a commit' };
    const base = ref.commit && loc.blob ? sourceFor(ref.commit) : null;
    const natBlob = ref.commit ? `${natAt.get(ref.commit)?.blob ?? ''}|${nfqAt.get(ref.commit)?.blob ?? ''}` : '';
    let result = base;
    let marks: HistoryMark[] = [];
    if (base && history && ref.commit && base.kernelFile) {
      // Refs sharing a blob and the same set of history commits share the joined result.
      const k = `${loc.blob}|${natBlob}|${graph.maskKey(ref.commit)}`;
      let j = joined.get(k);
      if (!j) {
        const hr = historyForCommit(graph, byId, ref.commit, loc.path ?? primary);
        const r = hr.commits.length ? structuredClone(base) : base;
        if (hr.commits.length) {
          r.history = hr;
          joinHistory(r, hr);
        }
        j = {
          result: r,
          marks: [...hr.commits]
            .reverse()
            .map((c) => ({ commit: c.sha, subject: c.subject, variant: c.variant, reverts: c.reverts, matchedBy: c.matchedBy })),
        };
        joined.set(k, j);
      }
      result = j.result;
      marks = j.marks;
    }
    rows.push(
      buildRow(
        ref,
        loc,
        result,
        marks,
        ref.commit ? natAt.get(ref.commit)?.path : undefined,
        ref.commit ? nfqAt.get(ref.commit)?.path : undefined,
      ),
    );
  }
  rows.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || natural(a.short, b.short));
  tick('history');
  cancelled();

  // 5. lines of development, where each fix entered and where it was lost. Without history no
  // graph is walked at all: tags are then placed by name series and date.
  report({ phase: 'lines', done: 0, total: 1, refsDone: selected.length, message: 'placing tags on their branches' });
  let lines: Matrix['lines'] = [];
  let links: Map<string, string | null> | null = null;
  let scan: Pick<Matrix, 'entered' | 'lost' | 'restored'> = { entered: [], lost: [], restored: [] };
  if (wantLines) {
    let chains: Map<string, string[]> | null = null;
    if (history) {
      const wanted = new Set(
        rows.filter((r) => r.kind === 'tag' && r.commit && (r.status === 'ok' || r.status === 'moved')).map((r) => r.commit!),
      );
      links = await linksTask!;
      chains = chainsFrom(links, lineBranchList, wanted);
    }
    cancelled();
    lines = buildLines(chains, rows, lineBranches);
    scan = await scanLines(lines, rows, {
      graph,
      classified: byId,
      firstParentMerges: (from, to) => firstParentMerges(repo, from, to, signal),
      mergeChanged: async (m, p) => {
        const [atMerge, atParent] = await batchCheck(repo, [`${m}:${p}`, `${m}^1:${p}`], signal);
        return atMerge.sha !== atParent.sha;
      },
    });
  }
  tick('lines');
  cancelled();
  ms.total = performance.now() - t0;
  report({ phase: 'lines', done: 1, total: 1, refsDone: selected.length, message: 'done' });

  const matrix: Matrix = {
    repo: path.resolve(repo),
    path: primary,
    selection: opts.refs ?? [],
    generatedAt: new Date().toISOString(),
    rows,
    lines,
    ...scan,
    stats: {
      refs: rows.length,
      distinctCommits: commits.length,
      distinctBlobs: blobs.size,
      parsedBlobs: results.size,
      natBlobs: natScans.size,
      historyCommits: classified.length,
      graphCommits: graph.order.length,
      reusedRefs: 0,
      detectedNow: parsedNow,
      historyWalk: walked,
      linesWalk,
      ms,
    },
    warnings,
    hints,
  };
  if (opts.keep) {
    try {
      const detectedHere: BlobDetections = { results: new Map(), natScans: new Map(), nfqScans: new Map() };
      for (const it of items) {
        const into = [detectedHere.results, detectedHere.natScans, detectedHere.nfqScans][it.kind] as Map<
          string,
          DetectionResult | NatScan
        >;
        const r = resultOf[it.kind].get(it.id);
        if (r) into.set(it.id, r);
      }
      addBlobDetections(opts.keep, repo, detectedHere, cached ?? undefined);
      saveKept(opts.keep, {
        version: KEPT_VERSION,
        key,
        fingerprint,
        matrix,
        located: commits
          .filter((c) => located.has(c))
          .map((c) => [
            c,
            { loc: located.get(c)!, ...(natAt.has(c) ? { nat: natAt.get(c)! } : {}), ...(nfqAt.has(c) ? { nfq: nfqAt.get(c)! } : {}) },
          ]),
        results: [...results],
        natScans: [...natScans],
        nfqScans: [...nfqScans],
        history: keptHistory,
        dates: selected.map((r) => [r.name, r.object, r.date]),
        ...(links ? { lines: { branches: lineBranchList.map((b) => [b.name, b.commit] as [string, string]), next: [...links] } } : {}),
      });
    } catch (e) {
      warnings.push(`the sweep could not be kept for next time: ${(e as Error).message}`);
    }
  }
  return matrix;
}

const sameList = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Upstream fix commits (catalogue ids or overrides) that exist here: patch-id matches depend on them. */
async function presentUpstream(repo: string, overrides: SweepOptions['overrides'], signal?: AbortSignal): Promise<string[]> {
  const wanted = upstreamIds(overrides);
  const answers = await batchCheck(
    repo,
    wanted.map((w) => `${w.up}^{commit}`),
    signal,
  );
  return wanted.map((w, i) => (answers[i].type === 'commit' ? `${w.variant}=${answers[i].sha}` : '')).filter(Boolean);
}

/**
 * The walks' commits (each touches one of the files), classified (subjects, provenance,
 * reverts, then patch-ids). Merges are never classified (as `log --no-merges`).
 */
async function classifyNodes(
  repo: string,
  nodes: PathGraphNode[],
  paths: string[],
  overrides: SweepOptions['overrides'],
  signal?: AbortSignal,
): Promise<ClassifiedCommit[]> {
  const single = nodes.filter((n) => n.parents.length <= 1 && !n.decorated);
  const records = single.map((n) => n.record);
  const classified = classifyAll(records);
  return mergeClassified(classified, await patchIdMatches(repo, records, classified, paths, overrides, signal));
}

/** Swept commits as graph nodes whose parents are the commits their files come from. */
function synthetic(commits: string[], heads: Map<string, string[]>): PathGraphNode[] {
  return commits.map((c) => ({
    sha: c,
    parents: (heads.get(c) ?? []).filter((x) => x !== c),
    decorated: true,
    record: { sha: c, subject: '', author: '', date: '', body: '' },
  }));
}

/**
 * For each commit and each file it has (path, blob): the first commit `git log <commit> --
 * <path>` shows, i.e. where that content comes from. The commit itself where it is in that
 * file's walk. With `byBlob` (the walk started from every commit) the walk node holding the
 * same blob when it is the only one (the usual case: blobs rarely recur), else one
 * `rev-list -n1` each, a few at a time.
 */
async function headsOf(
  repo: string,
  commits: string[],
  pathsAt: (c: string) => { path: string; blob: string }[],
  paths: string[],
  parts: PathGraphNode[][],
  byBlob: boolean,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const inWalk = paths.map((_, i) => new Set(parts[i].map((n) => n.sha)));
  const producers = paths.map(() => new Map<string, string[]>());
  if (byBlob) {
    const names = paths.flatMap((p, i) => parts[i].map((n) => `${n.sha}:${p}`));
    const answers = await batchCheck(repo, names, signal);
    let k = 0;
    paths.forEach((_, i) => {
      for (const n of parts[i]) {
        const a = answers[k++];
        if (a.type !== 'blob' || !a.sha) continue;
        const list = producers[i].get(a.sha);
        if (list) list.push(n.sha);
        else producers[i].set(a.sha, [n.sha]);
      }
    });
  }
  const out = new Map<string, string[]>();
  const ask: { commit: string; path: string }[] = [];
  for (const c of commits) {
    const hs: string[] = [];
    for (const { path: p, blob } of pathsAt(c)) {
      const i = paths.indexOf(p);
      if (inWalk[i].has(c)) hs.push(c);
      else if (byBlob && producers[i].get(blob)?.length === 1) hs.push(producers[i].get(blob)![0]);
      else ask.push({ commit: c, path: p });
    }
    out.set(c, hs);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ask.length) {
      const q = ask[next++];
      const head = await firstTouching(repo, q.commit, q.path, signal);
      if (head) out.get(q.commit)!.push(head);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEAD_LOOKUPS, ask.length) }, worker));
  return out;
}

/** Branches that define lines: the selected ones, or every branch when only tags were selected. */
function pickLineBranches(all: RefInfo[], selected: RefInfo[]): RefInfo[] {
  const sel = selected.filter((r) => r.kind !== 'tag' && r.commit);
  return sel.length ? sel : all.filter((r) => r.kind !== 'tag' && r.commit);
}

/**
 * For commits without the file at `primary`: other paths a file of the same name has in their
 * trees (a vendor tree that nests the kernel, a restructure), tried in order of how many of
 * these trees have it. Trees holding the pre-2.6.15 predecessor are answered without listing;
 * the others are listed (`ls-tree -r`, streamed) only until a path found so far answers them:
 * no history is walked.
 */
async function findMoved(repo: string, missing: string[], primary: string, signal?: AbortSignal): Promise<Map<string, Located>> {
  const base = primary.split('/').pop()!;
  const out = new Map<string, Located>();
  const old = await batchCheck(
    repo,
    missing.map((c) => `${c}:${PREDECESSOR}`),
    signal,
  );
  const predecessor = new Set(missing.filter((_, i) => old[i].type === 'blob'));
  const freq = new Map<string, number>();
  const tried = new Set<string>();
  let left = missing.filter((c) => !predecessor.has(c));
  const tryPaths = async (cands: string[]): Promise<void> => {
    for (const cand of cands) {
      if (!left.length) return;
      const answers = await batchCheck(
        repo,
        left.map((c) => `${c}:${cand}`),
        signal,
      );
      const still: string[] = [];
      answers.forEach((a, i) =>
        a.type === 'blob'
          ? out.set(left[i], { blob: a.sha, path: cand, status: 'moved', note: `not at ${primary}; found at ${cand}` })
          : still.push(left[i]),
      );
      left = still;
    }
  };
  while (left.length) {
    const c = left[0];
    const here: string[] = [];
    const listing = await gitText(repo, ['ls-tree', '-r', '--name-only', '-z', c], { signal });
    for (const p of listing.split('\0')) if (p && p !== primary && path.posix.basename(p) === base) here.push(p);
    for (const p of here) freq.set(p, (freq.get(p) ?? 0) + 1);
    const cands = [...freq.keys()]
      .filter((p) => !tried.has(p) || here.includes(p))
      .sort((x, y) => freq.get(y)! - freq.get(x)! || x.localeCompare(y));
    for (const p of cands) tried.add(p);
    await tryPaths(cands);
    // Nothing of that name here (or only a non-file entry): absent, and on to the next tree.
    if (left[0] === c) left = left.slice(1);
  }
  for (const c of missing) {
    if (out.has(c)) continue;
    out.set(c, {
      blob: null,
      path: null,
      status: 'absent',
      // Per tree, whatever else was swept with it (a kept sweep resolves only new commits).
      note: predecessor.has(c) ? `no ${base} here; only its pre-2.6.15 predecessor ${PREDECESSOR}` : `no ${base} in this tree`,
    });
  }
  return out;
}

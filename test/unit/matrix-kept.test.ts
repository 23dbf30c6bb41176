// Kept sweeps and the cost model on a generated kernel history: a second sweep with nothing
// moved is the kept one; moving, adding and deleting tags gives exactly what a fresh sweep
// gives while detecting only the new blob and walking only above the kept tips; cancelling in
// the middle keeps nothing; a commit-graph changes no verdict (and its absence is hinted);
// --no-history runs no walk at all.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildKernelRepo, KernelRepo } from '../../src/core/fixtures/repo';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { Matrix, sweep, SweepCancelled } from '../../src/core/matrix';
import { pruneKept } from '../../src/core/matrix/kept';
import { CORE_REL_PATH } from '../../src/core/detect/input';

let repo: KernelRepo;
let tmp: string;
let keep: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-kept-'));
  keep = path.join(tmp, 'keep');
  repo = await buildKernelRepo(path.join(tmp, 'linux'), { scale: 1, seed: 7, nat: true });
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const git = (...args: string[]): string =>
  execFileSync('git', args, {
    cwd: repo.dir,
    env: {
      ...process.env,
      GIT_AUTHOR_DATE: '1700000000 +0000',
      GIT_COMMITTER_DATE: '1700000000 +0000',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
    },
  })
    .toString()
    .trim();

/** What a sweep answers, without when and how fast. */
const answer = (m: Matrix): unknown =>
  JSON.parse(
    JSON.stringify({ rows: m.rows, lines: m.lines, entered: m.entered, lost: m.lost, restored: m.restored, warnings: m.warnings }),
  );

describe('kept sweeps', () => {
  test('first sweep keeps, second (nothing moved) is the kept one without any detection', async () => {
    const fresh = await sweep(repo.dir, { refs: ['all'] });
    const first = await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    assert.deepEqual(answer(first), answer(fresh));
    assert.equal(first.stats.historyWalk, 'full');
    assert.equal(first.stats.detectedNow, first.stats.distinctBlobs);
    const again = await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    assert.deepEqual(answer(again), answer(fresh));
    assert.equal(again.stats.reusedRefs, again.rows.length);
    // Another selection is another kept sweep.
    const other = await sweep(repo.dir, { refs: ['v4.19*'], keep: { dir: keep } });
    assert.equal(other.stats.reusedRefs, 0);
    assert.equal(other.stats.detectedNow, 0, 'every blob of the other selection was detected by the first sweep');
    assert.equal(fs.readdirSync(keep).filter((f) => /^sweep-.*\.json$/.test(f)).length, 2);
  });

  test('another --refs selection detects no blob an earlier sweep of the repository detected', async () => {
    const dir = path.join(tmp, 'keep-blobs');
    const some = await sweep(repo.dir, { refs: ['v4.*'], keep: { dir } });
    const known = new Set(some.rows.map((r) => r.blob).filter(Boolean));
    assert.equal(some.stats.detectedNow, known.size);
    const all = await sweep(repo.dir, { refs: ['all'], keep: { dir } });
    const blobs = new Set(all.rows.map((r) => r.blob).filter(Boolean));
    const unknown = [...blobs].filter((b) => !known.has(b));
    assert.ok(unknown.length > 0 && known.size > 0, `${known.size} known, ${unknown.length} new: the test needs both`);
    assert.equal(all.stats.detectedNow, unknown.length, 'only blobs no earlier sweep detected');
    assert.deepEqual(answer(all), answer(await sweep(repo.dir, { refs: ['all'] })));
    // A blob file of another detector version is not used; pruning removes it with the sweeps.
    const file = fs.readdirSync(dir).find((f) => f.startsWith('blobs-'))!;
    const stale = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { version: number };
    fs.writeFileSync(path.join(dir, file), JSON.stringify({ ...stale, version: stale.version - 1 }));
    const other = await sweep(repo.dir, { refs: ['v5.*'], keep: { dir } });
    assert.equal(other.stats.detectedNow, other.stats.distinctBlobs);
    assert.equal(pruneKept(dir, { maxBytes: 0, maxFiles: 0 }).removed, 4);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('move one tag, add one on a new commit, delete one: the same answer as a fresh sweep, one detection', async () => {
    await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    // Move: v4.19.10 now names v4.19.40's commit.
    git('tag', '-f', 'v4.19.10', 'v4.19.40^{commit}');
    // Add: a new stable commit with a new file content (the zone fix backported) and a tag on it.
    const tip = git('rev-parse', 'linux-4.19.y');
    const spec = generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'upstream', zone: true, seed: 4242 });
    const blobFile = path.join(tmp, 'new.c');
    fs.writeFileSync(blobFile, spec.text);
    const blob = git('hash-object', '-w', blobFile);
    const index = path.join(tmp, 'index');
    execFileSync('git', ['read-tree', tip], { cwd: repo.dir, env: { ...process.env, GIT_INDEX_FILE: index } });
    execFileSync('git', ['update-index', '--cacheinfo', `100644,${blob},net/netfilter/nf_conntrack_core.c`], {
      cwd: repo.dir,
      env: { ...process.env, GIT_INDEX_FILE: index },
    });
    const tree = execFileSync('git', ['write-tree'], { cwd: repo.dir, env: { ...process.env, GIT_INDEX_FILE: index } })
      .toString()
      .trim();
    const commit = git(
      'commit-tree',
      tree,
      '-p',
      tip,
      '-m',
      'netfilter: conntrack: skip identical origin tuple in same zone only\n\n[ Upstream commit 07998281c2686e2eb5b3fd4d9b4d8a3f0e5c7d1a ]',
    );
    git('update-ref', 'refs/heads/linux-4.19.y', commit, tip);
    git('tag', 'v4.19.999', commit);
    // Delete.
    git('tag', '-d', 'v4.19.5');

    const inc = await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    const fresh = await sweep(repo.dir, { refs: ['all'] });
    assert.deepEqual(answer(inc), answer(fresh));
    assert.equal(inc.stats.detectedNow, 1, 'only the new blob is detected');
    assert.match(inc.stats.historyWalk ?? '', /^incremental \(\d+ new nodes\)$/);
    assert.equal(inc.stats.linesWalk, 'full', "a line's branch moved: the first-parent walk again");
    assert.ok(!inc.rows.some((r) => r.short === 'v4.19.5'));
    const added = inc.rows.find((r) => r.short === 'v4.19.999')!;
    assert.equal(added.zone.present, true);
    assert.equal(added.race2.verdict, spec.expect.race2);
    assert.ok(
      added.history.some((h) => h.commit === commit),
      'the new commit is in its history',
    );
    const moved = inc.rows.find((r) => r.short === 'v4.19.10')!;
    assert.equal(moved.commit, git('rev-parse', 'v4.19.40^{commit}'));
    assert.deepEqual(moved.race2, { ...inc.rows.find((r) => r.short === 'v4.19.40')!.race2, evidence: moved.race2.evidence });
    // And nothing moved since: the kept sweep again.
    const again = await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    assert.equal(again.stats.reusedRefs, again.rows.length);
  });

  test('a tag on an old commit the kept graph does not hold: joined to the kept history where its file comes from, same answer', async () => {
    await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    // The docs branch's parent commit: no ref, not a commit of the file's history.
    git('tag', 'old-point', 'docs-1^{commit}^');
    const inc = await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    assert.equal(inc.stats.historyWalk, 'incremental (0 new nodes)');
    assert.equal(inc.stats.detectedNow, 0);
    const fresh = await sweep(repo.dir, { refs: ['all'] });
    git('tag', '-d', 'old-point');
    assert.deepEqual(answer(inc), answer(fresh));
  });

  test('a release tagged above a branch tip (no branch moved) and a tag deleted: the kept lines serve, one tag date read, same answer', async () => {
    const dir = path.join(tmp, 'keep-release');
    await sweep(repo.dir, { refs: ['all'], keep: { dir } });
    const tip = git('rev-parse', 'linux-4.19.y');
    const next = git('commit-tree', `${tip}^{tree}`, '-p', tip, '-m', 'Linux 4.19.1000');
    git('tag', '-a', '-m', 'Linux 4.19.1000', 'v4.19.1000', next);
    const gone = git('rev-parse', 'v4.19.7');
    git('tag', '-d', 'v4.19.7');
    try {
      const inc = await sweep(repo.dir, { refs: ['all'], keep: { dir } });
      assert.equal(inc.stats.linesWalk, 'kept');
      assert.equal(inc.stats.detectedNow, 0);
      const fresh = await sweep(repo.dir, { refs: ['all'] });
      assert.equal(fresh.stats.linesWalk, 'full');
      assert.deepEqual(answer(inc), answer(fresh));
      const added = inc.rows.find((r) => r.short === 'v4.19.1000')!;
      assert.equal(added.date, Number(git('for-each-ref', '--format=%(creatordate:unix)', 'refs/tags/v4.19.1000')));
    } finally {
      git('tag', '-d', 'v4.19.1000');
      git('update-ref', 'refs/tags/v4.19.7', gone);
    }
  });

  test('a new branch off an old commit that changes the file: a boundary the kept graph does not know, the whole walk again', async () => {
    await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    // A commit below v4.19 that no ref names and that does not change the file: never a node.
    const base = git('rev-list', '--max-count=40', 'v4.19^{commit}^')
      .split('\n')
      .find(
        (c) =>
          git('rev-list', '-n1', c, '--', CORE_REL_PATH, 'net/netfilter/nf_nat_core.c') !== c && !git('for-each-ref', '--points-at', c),
      )!;
    assert.ok(base, 'a commit below v4.19 that is not in the file history');
    const blob = git('rev-parse', `v5.4^{commit}:${CORE_REL_PATH}`);
    const idx = path.join(tmp, 'index-fork');
    const env = { ...process.env, GIT_INDEX_FILE: idx };
    execFileSync('git', ['read-tree', base], { cwd: repo.dir, env });
    execFileSync('git', ['update-index', '--add', '--cacheinfo', `100644,${blob},${CORE_REL_PATH}`], { cwd: repo.dir, env });
    const tree = execFileSync('git', ['write-tree'], { cwd: repo.dir, env }).toString().trim();
    const fork = git('commit-tree', tree, '-p', base, '-m', 'fork: take the 5.4 file');
    git('branch', 'fork-old', fork);
    const inc = await sweep(repo.dir, { refs: ['all'], keep: { dir: keep } });
    assert.equal(inc.stats.historyWalk, 'full');
    const fresh = await sweep(repo.dir, { refs: ['all'] });
    git('branch', '-D', 'fork-old');
    fs.rmSync(idx, { force: true });
    assert.deepEqual(answer(inc), answer(fresh));
    assert.ok(inc.rows.some((r) => r.short === 'fork-old' && r.status === 'ok'));
  });

  test('cancel in the middle of the history stage: SweepCancelled, nothing kept', async () => {
    const dir = path.join(tmp, 'keep-cancel');
    const ac = new AbortController();
    await assert.rejects(
      sweep(repo.dir, { refs: ['all'], keep: { dir }, signal: ac.signal, onProgress: (p) => p.phase === 'history' && ac.abort() }),
      (e: unknown) => e instanceof SweepCancelled || (e as Error).name === 'AbortError',
    );
    assert.ok(!fs.existsSync(dir) || fs.readdirSync(dir).length === 0);
  });

  test('progress carries refs and a rate', async () => {
    let last: { refs?: number; refsDone?: number; refsPerSecond?: number } = {};
    const m = await sweep(repo.dir, { refs: ['v5.*'], onProgress: (p) => (last = p) });
    assert.equal(last.refs, m.rows.length);
    assert.equal(last.refsDone, m.rows.length);
    assert.ok((last.refsPerSecond ?? 0) > 0);
  });

  test('nothing moved reads only the kept matrix; a state the matrix does not name is not used', async () => {
    const dir = path.join(tmp, 'keep-split');
    const first = await sweep(repo.dir, { refs: ['v5.*'], keep: { dir } });
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('sweep-'))
      .sort();
    assert.equal(files.length, 2, files.join(' '));
    assert.match(files[0], /^sweep-[0-9a-f]{32}\.json$/);
    assert.equal(files[1], files[0].replace(/\.json$/, '.state'));
    fs.writeFileSync(path.join(dir, files[1]), 'not json');
    const again = await sweep(repo.dir, { refs: ['v5.*'], keep: { dir } });
    assert.equal(again.stats.reusedRefs, again.rows.length);
    assert.deepEqual(answer(again), answer(first));
    // A ref moved and the state is unreadable: a whole sweep, answering as a fresh one does.
    git('tag', 'v5.999-split', first.rows.find((r) => r.commit)!.commit!);
    try {
      const moved = await sweep(repo.dir, { refs: ['v5.*'], keep: { dir } });
      const fresh = await sweep(repo.dir, { refs: ['v5.*'] });
      assert.deepEqual(answer(moved), answer(fresh));
      assert.equal(moved.stats.reusedRefs, 0);
      assert.equal(moved.stats.detectedNow, 0, "the repository's blob detections still answer");
    } finally {
      git('tag', '-d', 'v5.999-split');
    }
  });

  test('the keep directory is bounded and can be emptied', async () => {
    const dir = path.join(tmp, 'keep-bound');
    fs.mkdirSync(dir);
    for (let i = 0; i < 5; i++) {
      const f = path.join(dir, `sweep-${String(i).repeat(32)}.json`);
      fs.writeFileSync(f, 'x'.repeat(1000));
      fs.utimesSync(f, new Date(1000 + i * 1000), new Date(1000 + i * 1000));
    }
    fs.writeFileSync(path.join(dir, 'unrelated.txt'), 'mine');
    const r = pruneKept(dir, { maxBytes: 2500, maxFiles: 10 });
    assert.deepEqual([r.removed, r.kept], [3, 2]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [`sweep-${'3'.repeat(32)}.json`, `sweep-${'4'.repeat(32)}.json`, 'unrelated.txt']);
    assert.equal(pruneKept(dir, { maxBytes: 0, maxFiles: 0 }).removed, 2);
    assert.deepEqual(fs.readdirSync(dir), ['unrelated.txt']);
  });
});

describe('commit-graph and walks', () => {
  test('without a commit-graph the sweep hints at one; with it (Bloom filters) the same answer and no hint', async () => {
    const without = await sweep(repo.dir, { refs: ['all'] });
    assert.ok(without.hints?.some((h) => /commit-graph write --reachable --changed-paths/.test(h)));
    git('commit-graph', 'write', '--reachable', '--changed-paths');
    try {
      const withGraph = await sweep(repo.dir, { refs: ['all'] });
      assert.deepEqual(withGraph.hints, []);
      assert.deepEqual(answer(withGraph), answer(without));
    } finally {
      fs.rmSync(path.join(repo.dir, '.git', 'objects', 'info', 'commit-graph'), { force: true });
    }
  });

  test('the history graph holds the touching and ref commits, not the repository', async () => {
    const m = await sweep(repo.dir, { refs: ['all'] });
    const touching = Number(
      git(
        'rev-list',
        '--count',
        '--all',
        '--full-history',
        '--no-merges',
        '--',
        'net/netfilter/nf_conntrack_core.c',
        'net/netfilter/nf_nat_core.c',
        'net/netfilter/core/nf_conntrack_core.c',
        'linux-5.0.1/net/netfilter/nf_conntrack_core.c',
        'linux-5.0.1/net/netfilter/nf_nat_core.c',
        'net/netfilter/core/nf_nat_core.c',
      ),
    );
    assert.ok(
      m.stats.graphCommits <= touching + m.rows.length + 50,
      `${m.stats.graphCommits} graph nodes for ${touching} touching commits and ${m.rows.length} refs`,
    );
  });

  test('--no-history runs no rev-list or log at all', async () => {
    const trace = path.join(tmp, 'trace.txt');
    const was = process.env.GIT_TRACE;
    process.env.GIT_TRACE = trace;
    try {
      const m = await sweep(repo.dir, { refs: ['all'], history: false });
      assert.ok(m.rows.length > 400);
      assert.ok(m.lines.every((l) => l.kind === 'series'));
    } finally {
      if (was === undefined) delete process.env.GIT_TRACE;
      else process.env.GIT_TRACE = was;
    }
    const cmds = fs
      .readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /trace: built-in: git /.test(l))
      .map((l) =>
        l
          .replace(/.*built-in: git /, '')
          .split(' ')[0]
          .replace(/'/g, ''),
      );
    assert.ok(cmds.length > 0);
    assert.deepEqual(
      cmds.filter((c) => c === 'rev-list' || c === 'log' || c === 'merge-base'),
      [],
      cmds.join(' '),
    );
  });
});

describe('CLI: kept sweeps and the cache command', () => {
  test('sweep keeps by default into --keep-dir, the second run reuses it, --prune-cache empties it; the hint goes to stderr', async () => {
    const { main } = await import('../../src/cli');
    const dir = path.join(tmp, 'cli-keep');
    const runCli = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const code = await main(
        argv,
        (s) => (out += s + '\n'),
        (s) => (err += s + '\n'),
      );
      return { code, out, err };
    };
    const first = await runCli(['sweep', '--refs', 'v5.*', '--keep-dir', dir, '--json', repo.dir]);
    assert.equal(first.code, 0, first.err);
    assert.match(first.err, /hint: .*commit-graph write --reachable --changed-paths/);
    const second = await runCli(['sweep', '--refs', 'v5.*', '--keep-dir', dir, '--json', repo.dir]);
    const m2 = JSON.parse(second.out) as Matrix;
    assert.equal(m2.stats.reusedRefs, m2.rows.length);
    assert.deepEqual(m2.rows, (JSON.parse(first.out) as Matrix).rows);
    const none = await runCli(['sweep', '--refs', 'v5.*', '--no-keep', '--keep-dir', dir, repo.dir]);
    assert.equal(none.code, 2, 'no-keep and keep-dir exclude each other');
    const pruned = await runCli(['sweep', '--prune-cache', '--keep-dir', dir]);
    assert.equal(pruned.code, 0, pruned.err);
    assert.match(pruned.out, /removed 2 kept sweep/); // the sweep and the repository's blob detections
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.equal((await runCli(['sweep', '--keep-dir', dir])).code, 2, 'a sweep still needs a repository');
  });
});

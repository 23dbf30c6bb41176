// The sweep's parts on small real repositories: cat-file framing on Buffers, ref globs,
// the graph's ancestor sets, the exporters and the CLI command.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { batchCheck, CatFileBatch } from '../../src/core/git/catfile';
import { CommitGraph, firstParentMerges, firstParentTags, firstTouching, walkPathGraph } from '../../src/core/git/graph';
import { globToRegExp, listAllRefs, listRefsUndated, refDates, refMatcher } from '../../src/core/git/refs';
import { FastImportWriter } from '../../src/core/fixtures/fastimport';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { exportMatrix, sweep, toCsv, toMarkdown } from '../../src/core/matrix';
import { seriesOf } from '../../src/core/matrix/lines';
import { main } from '../../src/cli';

let tmp: string;
let small: string;
const T0 = 1_600_000_000;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-parts-'));
  small = path.join(tmp, 'small');
  const w = new FastImportWriter();
  const base = generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'none', seed: 1 }).text;
  const fixed = generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'upstream', seed: 1 }).text;
  const f = 'net/netfilter/nf_conntrack_core.c';
  const a = w.commit({ ref: 'refs/heads/master', files: { [f]: base, 'odd.bin': 'x\ny\n\0z missing\n' }, message: 'a\n', time: T0 });
  w.tag('v1.0', a, 'one\n', T0 + 10);
  const b = w.commit({
    ref: 'refs/heads/side',
    from: a,
    files: { [f]: fixed },
    message: 'netfilter: nf_nat: skip nat clash resolution for same-origin entries\n',
    time: T0 + 100,
  });
  const c = w.commit({ ref: 'refs/heads/master', from: a, files: { 'empty.txt': '' }, message: 'c\n', time: T0 + 200 });
  w.tag('v1.1', c, 'one one\n', T0 + 210);
  const m = w.commit({ ref: 'refs/heads/master', from: c, merges: [b], files: { [f]: fixed }, message: 'Merge side\n', time: T0 + 300 });
  w.tag('v1.2', m);
  w.tag('Ubuntu-4.15.0-20.21', m, 'ubuntu\n', T0 + 400);
  w.resetBranch('refs/heads/side', b);
  w.resetBranch('refs/heads/master', m);
  await w.run(small);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const git = (...args: string[]): string => execFileSync('git', args, { cwd: small }).toString().trim();

describe('cat-file --batch framing', () => {
  test('contents come back byte-exact, in order, with concurrent requests and missing objects', async () => {
    const cat = new CatFileBatch(small);
    try {
      const names = ['master:odd.bin', 'master:empty.txt', 'master:nope', 'v1.0:net/netfilter/nf_conntrack_core.c', 'master:odd.bin'];
      const got = await Promise.all(names.map((n) => cat.read(n)));
      assert.deepEqual(got[0]!.content, Buffer.from('x\ny\n\0z missing\n'));
      assert.equal(got[0]!.type, 'blob');
      assert.equal(got[1]!.content.length, 0);
      assert.equal(got[2], null);
      assert.equal(
        got[3]!.content.toString('utf8'),
        execFileSync('git', ['show', 'v1.0:net/netfilter/nf_conntrack_core.c'], { cwd: small }).toString(),
      );
      assert.deepEqual(got[4]!.content, got[0]!.content);
      await assert.rejects(cat.read('a\nb'), /newline/);
    } finally {
      cat.close();
    }
  });

  test('batch-check resolves many names in one process', async () => {
    const a = await batchCheck(small, ['master:net/netfilter/nf_conntrack_core.c', 'v1.0:missing/file.c', 'v1.0']);
    assert.equal(a[0].type, 'blob');
    assert.equal(a[0].sha, git('rev-parse', 'master:net/netfilter/nf_conntrack_core.c'));
    assert.equal(a[1].sha, null);
    assert.equal(a[2].type, 'tag');
  });
});

describe('refs', () => {
  test('globs match short or full names, across slashes', () => {
    assert.ok(globToRegExp('v4.*').test('v4.19.29'));
    assert.ok(!globToRegExp('v4.*').test('v5.0'));
    assert.ok(globToRegExp('Ubuntu-*').test('Ubuntu-4.15.0-20.21'));
    assert.ok(globToRegExp('v4.1[49].*').test('v4.19.3'));
    assert.ok(!globToRegExp('v4.1[49].*').test('v4.15.3'));
    assert.ok(globToRegExp('refs/remotes/*').test('refs/remotes/origin/x'));
    const m = refMatcher(['Ubuntu-*', 'branches']);
    assert.ok(m({ name: 'refs/tags/Ubuntu-4.15.0-20.21', short: 'Ubuntu-4.15.0-20.21', kind: 'tag' }));
    assert.ok(m({ name: 'refs/heads/x', short: 'x', kind: 'branch' }));
    assert.ok(!m({ name: 'refs/tags/v1', short: 'v1', kind: 'tag' }));
    assert.throws(() => refMatcher(['-v']), /starts with '-'/);
  });

  test('for-each-ref peels annotated tags and dates them by the tagger', async () => {
    const refs = await listAllRefs(small);
    const v10 = refs.find((r) => r.short === 'v1.0')!;
    assert.equal(v10.kind, 'tag');
    assert.equal(v10.commit, git('rev-parse', 'v1.0^{commit}'));
    assert.notEqual(v10.object, v10.commit);
    assert.equal(v10.date, T0 + 10);
    const v12 = refs.find((r) => r.short === 'v1.2')!;
    assert.equal(v12.object, v12.commit);
    assert.equal(v12.date, T0 + 300);
  });

  test('peeled from the ref store (packed-refs peeled lines, or the object of a loose tag), dated apart: the same refs as for-each-ref gives', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-refs-'));
    try {
      execFileSync('git', ['clone', '-q', '--mirror', small, copy]);
      // A tag of a tag and a tag of a tree: peeled fully, and no commit for the tree.
      execFileSync('git', ['tag', '-a', '-m', 'x', 'v1.0-again', 'v1.0'], {
        cwd: copy,
        env: { ...process.env, GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
      });
      execFileSync('git', ['tag', 'tree-tag', 'v1.0^{tree}'], { cwd: copy });
      for (const packed of [false, true]) {
        if (packed) execFileSync('git', ['pack-refs', '--all'], { cwd: copy });
        const want = await listAllRefs(copy);
        const got = await listRefsUndated(copy);
        assert.deepEqual(
          got.map((r) => ({ ...r, date: null })),
          want.map((r) => ({ ...r, date: null })),
          packed ? 'all packed' : 'cloned refs packed, new tags loose',
        );
        assert.ok(got.every((r) => r.date === null));
        assert.equal(got.find((r) => r.short === 'v1.0-again')!.commit, git('rev-parse', 'v1.0^{commit}'));
        assert.equal(got.find((r) => r.short === 'tree-tag')!.commit, null);
        const dates = await refDates(copy, [...want.map((r) => r.name), 'refs/tags/no-such-tag']);
        for (const r of want) assert.deepEqual(dates.get(r.name), { object: r.object, date: r.date }, r.name);
        assert.equal(dates.has('refs/tags/no-such-tag'), false);
      }
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  test('series names drop the last number', () => {
    assert.equal(seriesOf('v4.19.29'), 'v4.19');
    assert.equal(seriesOf('Ubuntu-4.15.0-20.21'), 'Ubuntu-4.15.0-20');
    assert.equal(seriesOf('latest'), 'latest');
  });
});

describe('graph', () => {
  test('the file history as git log sees it: the merge that takes the side is not followed twice; refs join where their file comes from', async () => {
    const tips = ['master', 'side', 'v1.0', 'v1.1'].map((r) => git('rev-parse', `${r}^{commit}`));
    const a = git('rev-parse', 'v1.0^{commit}');
    const b = git('rev-parse', 'side');
    const f = 'net/netfilter/nf_conntrack_core.c';
    const nodes = await walkPathGraph(small, tips, [f]);
    // a (root, adds the file) and b (the fix); the merge leaves the file as side had it, so
    // `git log master -- file` shows b and a, not the merge, and c touches nothing.
    assert.deepEqual(
      nodes.map((n) => [n.sha, n.parents]),
      [
        [a, []],
        [b, [a]],
      ],
    );
    assert.equal(nodes[1].record.subject, 'netfilter: nf_nat: skip nat clash resolution for same-origin entries');
    assert.equal(await firstTouching(small, git('rev-parse', 'master'), f), b);
    assert.equal(await firstTouching(small, git('rev-parse', 'v1.1^{commit}'), f), a);
    assert.equal(await firstTouching(small, git('rev-parse', 'v1.1^{commit}'), 'no/such/file.c'), null);
    const g = CommitGraph.of([
      ...nodes,
      { sha: git('rev-parse', 'master'), parents: [b] },
      { sha: git('rev-parse', 'v1.1^{commit}'), parents: [a] },
    ]);
    g.mark([b]);
    assert.deepEqual(g.markedAncestors(git('rev-parse', 'master')), [b]);
    assert.deepEqual(g.markedAncestors(git('rev-parse', 'v1.1^{commit}')), []);
  });

  test('first-parent placement: tags on each chain, a chain joining an earlier one takes its rest', async () => {
    const at = (r: string): string => git('rev-parse', `${r}^{commit}`);
    const wanted = new Set([at('v1.0'), at('v1.1'), at('v1.2')]);
    const chains = await firstParentTags(
      small,
      [
        { name: 'side', commit: at('side') },
        { name: 'master', commit: at('master') },
      ],
      wanted,
    );
    assert.deepEqual(chains.get('side'), [at('v1.0')]);
    assert.deepEqual(chains.get('master'), [at('v1.2'), at('v1.1'), at('v1.0')]);
    assert.deepEqual(await firstParentMerges(small, at('v1.1'), at('master')), [at('master')]);
    assert.deepEqual(await firstParentMerges(small, at('v1.2'), at('master')), []);
  });
});

describe('exporters and CLI', () => {
  test('markdown, csv and json carry every row; csv neutralises formulas', async () => {
    const m = await sweep(small, { refs: ['all'] });
    assert.equal(m.rows.length, 6);
    const csv = toCsv(m).trimEnd().split('\n');
    assert.equal(csv.length, 1 + m.rows.length);
    assert.match(csv[0], /^ref,kind,date,status,race1,/);
    const md = toMarkdown(m);
    assert.match(md, /## Where each fix entered/);
    assert.match(md, /\| race2 \| master \| v1\.2 \|/);
    assert.deepEqual(JSON.parse(exportMatrix(m, 'json')).rows.length, m.rows.length);
    m.rows[0].note = '=HYPERLINK("x")';
    assert.match(toCsv(m), /"'=HYPERLINK\(""x""\)"/);
  });

  test('the sweep command prints csv for a pattern and refuses a dash', async () => {
    let out = '';
    const code = await main(['sweep', '--refs', 'v1.*', '--csv', small], (s) => (out += s + '\n'));
    assert.equal(code, 0);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.match(
      lines.find((l) => l.startsWith('v1.2,'))!,
      /,fixed,4e35c1cb9460,/,
    );
    let err = '';
    assert.equal(
      await main(
        ['sweep', '--refs=-x', small],
        () => undefined,
        (s) => (err += s),
      ),
      2,
    );
    assert.match(err, /starts with '-'/);
  });
});

test('the matrix core never imports vscode', () => {
  const root = path.join(__dirname, '../../../src/core');
  const files = ['matrix', 'git', 'fixtures'].flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => path.join(root, d, f)));
  for (const f of files) assert.doesNotMatch(fs.readFileSync(f, 'utf8'), /from ['"]vscode['"]|require\(['"]vscode['"]\)/, f);
});

// The sweep's nf_nat_core.c scan and patch-id layer against a small real repository: each
// ref's race-2 cell equals what detectPath says for a checkout of that ref (same join, same
// history rules), with the NAT hypothesis only where the NAT file carries it, and a commit with
// an upstream fix's patch-id counting as that fix only when the upstream commit is present.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { FastImportWriter } from '../../src/core/fixtures/fastimport';
import { generateConntrackCore, generateNatCore } from '../../src/core/fixtures/generate';
import { detectPath } from '../../src/core/detect';
import { Matrix, MatrixRow, sweep } from '../../src/core/matrix';
import { natPathFor } from '../../src/core/matrix/nat';
import { patchIds, upstreamIds } from '../../src/core/matrix/patchid';
import { main } from '../../src/cli';

const CORE = 'net/netfilter/nf_conntrack_core.c';
const NAT = 'net/netfilter/nf_nat_core.c';
const NESTED = 'linux-4.19.1/';
const T0 = 1_600_000_000;

let tmp: string;
let dir: string;
let upstream: string;
let matrix: Matrix;

const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir }).toString().trim();

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-matrix-nat-'));
  dir = path.join(tmp, 'linux');
  const core = (race2: 'none' | 'upstream'): string => generateConntrackCore({ era: '4.19', race1: 'upstream', race2, seed: 3 }).text;
  const plainNat = generateNatCore({ azure952939: false });
  const azureNat = generateNatCore({ azure952939: true });
  const w = new FastImportWriter();
  const a = w.commit({
    ref: 'refs/heads/master',
    files: { [CORE]: core('none'), [NAT]: plainNat, Makefile: '# a\n' },
    message: 'Initial import\n',
    time: T0,
  });
  w.tag('v1', a, 'v1\n', T0 + 10);
  // Neutral subjects: only the NAT scan can see the hypothesis here, not the history layer.
  const b = w.commit({
    ref: 'refs/heads/nat-azure',
    from: a,
    files: { [NAT]: azureNat },
    message: 'vendor: nat port allocation tweak\n',
    time: T0 + 100,
  });
  w.tag('nat-1', b, 'nat 1\n', T0 + 110);
  const c = w.commit({
    ref: 'refs/heads/both',
    from: a,
    files: { [CORE]: core('upstream'), [NAT]: azureNat },
    message: 'vendor: clash handling\n',
    time: T0 + 200,
  });
  w.tag('both-1', c);
  // The upstream fix on a remote-tracking ref (not swept), and a vendor copy of the same diff
  // under another subject and without provenance, later dropped by an unrelated-looking edit.
  w.commit({
    ref: 'refs/remotes/upstream/master',
    from: a,
    files: { [CORE]: core('upstream') },
    message: 'netfilter: nf_nat: skip nat clash resolution for same-origin entries\n',
    time: T0 + 300,
  });
  const v = w.commit({
    ref: 'refs/heads/vendor',
    from: a,
    files: { [CORE]: core('upstream') },
    message: 'vendor: conntrack fixes\n',
    time: T0 + 400,
  });
  w.tag('vendor-1', v, 'vendor 1\n', T0 + 410);
  const d = w.commit({
    ref: 'refs/heads/vendor',
    from: v,
    files: { [CORE]: core('none') },
    message: 'vendor: cleanup after rebase\n',
    time: T0 + 500,
  });
  w.tag('vendor-2', d, 'vendor 2\n', T0 + 510);
  // A tarball-style tree: both files nested one directory down.
  const t = w.commit({
    ref: 'refs/heads/tarball',
    files: { [NESTED + CORE]: core('none'), [NESTED + NAT]: azureNat },
    message: 'import tarball\n',
    time: T0 + 600,
  });
  w.tag('tarball-1', t);
  w.resetBranch('refs/heads/master', a);
  w.resetBranch('refs/heads/vendor', d);
  await w.run(dir);
  upstream = git('rev-parse', 'refs/remotes/upstream/master');
  matrix = await sweep(dir, { refs: ['all'] });
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rowIn = (m: Matrix, short: string): MatrixRow => {
  const r = m.rows.find((x) => x.short === short);
  assert.ok(r, `no row for ${short}`);
  return r;
};

/** detectPath on a checkout of `ref` (a detached worktree), for comparing with the sweep's row. */
async function detectAt(ref: string, sub = '', overrides?: Record<string, string>): Promise<Awaited<ReturnType<typeof detectPath>>> {
  const wt = path.join(tmp, `wt-${ref}-${Math.random().toString(36).slice(2, 8)}`);
  git('worktree', 'add', '-q', '--detach', wt, ref);
  try {
    return await detectPath(path.join(wt, sub), { overrides });
  } finally {
    git('worktree', 'remove', '--force', wt);
  }
}

describe('sweep: nf_nat_core.c per ref', () => {
  test('the NAT file is found beside the conntrack file, also nested', () => {
    assert.equal(natPathFor(CORE), NAT);
    assert.equal(natPathFor(NESTED + CORE), NESTED + NAT);
    assert.equal(natPathFor('nf_conntrack_core.c'), 'nf_nat_core.c');
  });

  test('race 2 is fixed/azure-952939 only where nf_nat_core.c carries the hypothesis', () => {
    for (const short of ['nat-1', 'nat-azure', 'tarball-1', 'tarball']) {
      const r = rowIn(matrix, short).race2;
      assert.equal(`${r.verdict}/${r.variant}`, 'fixed/azure-952939', short);
      assert.match(r.explain, /nf_nat_core\.c/);
    }
    for (const short of ['v1', 'master', 'vendor-2', 'vendor']) assert.equal(rowIn(matrix, short).race2.verdict, 'missing', short);
    const both = rowIn(matrix, 'both-1').race2;
    assert.equal(`${both.verdict}/${both.variant}`, 'fixed/4e35c1cb9460');
    assert.match(both.explain, /nf_nat_core\.c also has a same-origin reply-tuple reuse/);
    assert.equal(rowIn(matrix, 'vendor-1').race2.variant, '4e35c1cb9460');
  });

  test('each distinct NAT blob is read and scanned once', () => {
    // plain and azure contents: two blobs for eleven refs (the nested tree shares the azure blob)
    assert.equal(matrix.stats.natBlobs, 2);
  });

  test('NAT evidence points into nf_nat_core.c at the ref, at the function that reuses the reply tuple', () => {
    for (const [short, file] of [
      ['nat-1', NAT],
      ['tarball-1', NESTED + NAT],
    ] as const) {
      const row = rowIn(matrix, short);
      const p = row.race2.evidence.find((e) => e.supports && e.path.endsWith('nf_nat_core.c'));
      assert.ok(p, `${short}: no NAT pointer`);
      assert.equal(p.path, file);
      assert.equal(p.commit, row.commit);
      const text = git('show', `${p.commit}:${p.path}`).split('\n');
      assert.match(text.slice(p.line! - 1, p.endLine).join('\n'), /nf_nat_same_origin_reply[\s\S]*IP_CT_DIR_REPLY/);
      // The conntrack file's own evidence still points at the conntrack file.
      assert.ok(row.race1.evidence.filter((e) => e.layer === 'source').every((e) => e.path.endsWith('nf_conntrack_core.c')));
    }
  });

  test('every ref: race 2 equals detectPath on a checkout of it', async () => {
    for (const [short, sub] of [
      ['v1', ''],
      ['nat-1', ''],
      ['both-1', ''],
      ['vendor-1', ''],
      ['vendor-2', ''],
      ['tarball-1', NESTED],
    ] as const) {
      const d = await detectAt(short, sub);
      const r = rowIn(matrix, short);
      const got = { verdict: r.race2.verdict, variant: r.race2.variant, explain: r.race2.explain, disagreement: r.race2.disagreement };
      const want = {
        verdict: d.races.race2.verdict,
        variant: d.races.race2.variant,
        explain: d.races.race2.explain,
        disagreement: d.races.race2.disagreement,
      };
      assert.deepEqual(got, want, short);
    }
  });
});

describe('sweep: patch-id against upstream fixes present in the repository', () => {
  const overrides = (): Record<string, string> => ({ '4e35c1cb9460': upstream });

  test('without the upstream commit (catalogue ids absent) the vendor copy is not recognised', () => {
    const v1 = rowIn(matrix, 'vendor-1');
    assert.deepEqual(v1.history, []);
    assert.equal(rowIn(matrix, 'vendor-2').race2.disagreement, undefined);
  });

  test('with the upstream commit named, the same diff under another subject counts as 4e35c1cb9460', async () => {
    const m = await sweep(dir, { refs: ['vendor*'], overrides: overrides() });
    const v1 = rowIn(m, 'vendor-1');
    assert.deepEqual(
      v1.history.map((h) => `${h.subject} ${h.variant} ${h.matchedBy}`),
      ['vendor: conntrack fixes 4e35c1cb9460 patch-id'],
    );
    assert.ok(v1.race2.evidence.some((e) => e.layer === 'history' && e.commit === git('rev-parse', 'vendor-1^{commit}')));
    // The later edit that dropped the code is no revert: history still says applied.
    const v2 = rowIn(m, 'vendor-2');
    assert.equal(v2.race2.verdict, 'missing');
    assert.match(v2.race2.disagreement ?? '', /history shows the race 2 fix applied and not reverted/);
    // The upstream commit is not its own match, and the drop is not a match either.
    assert.equal(v2.history.length, 1);
  });

  test('the sweep agrees with detectPath given the same override', async () => {
    const m = await sweep(dir, { refs: ['vendor-2'], overrides: overrides() });
    const d = await detectAt('vendor-2', '', overrides());
    assert.deepEqual(d.history?.net, { '4e35c1cb9460': 'applied' });
    assert.equal(m.rows[0].race2.disagreement, d.races.race2.disagreement);
    assert.deepEqual(
      m.rows[0].history.map((h) => h.commit),
      d.history!.commits.map((c) => c.sha),
    );
  });

  test('patch-ids come from one diff-tree and one patch-id process for many commits', async () => {
    const shas = [upstream, git('rev-parse', 'vendor-1^{commit}'), git('rev-parse', 'vendor-2^{commit}'), git('rev-parse', 'v1^{commit}')];
    const ids = await patchIds(dir, shas, [CORE]);
    assert.equal(ids.get(shas[0]), ids.get(shas[1]), 'same diff, same patch-id');
    assert.notEqual(ids.get(shas[2]), ids.get(shas[1]));
    assert.ok(ids.get(shas[3]), 'a root commit has the whole file as its diff');
    assert.equal((await patchIds(dir, [git('rev-parse', 'nat-1')], [CORE])).size, 0, 'no diff to the file: no patch-id');
  });

  test('the CLI takes the override as --override ID=SHA', async () => {
    let out = '';
    assert.equal(
      await main(['sweep', '--override', `4e35c1cb9460=${upstream}`, '--refs', 'vendor-2', '--json', dir], (t) => (out += t)),
      0,
    );
    const m = JSON.parse(out) as Matrix;
    assert.match(m.rows[0].race2.disagreement ?? '', /applied and not reverted/);
    let err = '';
    assert.equal(
      await main(
        ['sweep', '--override', 'race2=-p', dir],
        () => undefined,
        (t) => (err += t),
      ),
      2,
    );
    assert.match(err, /ID=SHA/);
  });

  test('overrides must be commit ids; option-like names are refused before git runs', async () => {
    assert.throws(() => upstreamIds({ '4e35c1cb9460': '--output=/tmp/x' }), /not a commit id/);
    await assert.rejects(sweep(dir, { refs: ['vendor*'], overrides: { '4e35c1cb9460': '-p' } }), /not a commit id/);
    assert.ok(upstreamIds().some((u) => u.variant === 'ed07d9a021df'));
  });
});

// The matrix against a real repository built by the fixture generator: every ref's verdicts
// equal the generator's expectation for the content committed there, and entered / lost /
// restored equal what the builder's own record of each line says.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildKernelRepo, KernelRepo, RefTruth } from '../../src/core/fixtures/repo';
import { FIX_KEYS, FixKey, Matrix, MatrixRow, sweep, SweepCancelled, SweepProgress } from '../../src/core/matrix';

let repo: KernelRepo;
let matrix: Matrix;
let tmp: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-matrix-'));
  repo = await buildKernelRepo(path.join(tmp, 'linux'), { scale: 1, seed: 7, nat: true });
  matrix = await sweep(repo.dir, { refs: ['all'] });
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rowOf = (short: string): MatrixRow => {
  const r = matrix.rows.find((x) => x.short === short);
  assert.ok(r, `no row for ${short}`);
  return r;
};

function observed(r: MatrixRow): unknown {
  return {
    race1: r.race1.verdict,
    race2: r.race2.verdict,
    race3: r.race3.verdict,
    race1Variant: r.race1.variant,
    race2Variant: r.race2.variant,
    zoneFollowup: r.zone.present,
    rework2020: r.rework.present,
    reverse2024: r.reverse.present,
    race4: r.race4.verdict,
  };
}

/** The truth's own notion of carrying, from the generator's expectation. */
function truthCarries(t: RefTruth, fix: FixKey): boolean {
  if (!t.expect) return false;
  return fix === 'zone' ? t.expect.zoneFollowup : t.expect[fix] === 'fixed';
}

/** Entered / lost / restored computed from the builder's record, independently of git. */
function truthEvents(): { entered: string[]; lost: string[]; restored: string[] } {
  const entered: string[] = [];
  const lost: string[] = [];
  const restored: string[] = [];
  for (const line of repo.lines) {
    const members = line.refs.map((n) => repo.refs.get(n)!).filter((t) => t.status !== 'absent');
    for (const fix of FIX_KEYS) {
      let prev: RefTruth | null = null;
      let seen = false;
      let isLost = false;
      for (const t of members) {
        const on = truthCarries(t, fix);
        if (on && !seen) {
          seen = true;
          entered.push(`${line.branch} ${fix} ${t.name}`);
        } else if (on && isLost) {
          isLost = false;
          restored.push(`${line.branch} ${fix} ${t.name}`);
        } else if (!on && prev && truthCarries(prev, fix)) {
          isLost = true;
          lost.push(`${line.branch} ${fix} ${t.name}`);
        }
        prev = t;
      }
    }
  }
  return { entered: entered.sort(), lost: lost.sort(), restored: restored.sort() };
}

describe('sweep over a generated kernel history', () => {
  test('the repository has several hundred tags over branches, merges, reverts and re-applies', () => {
    assert.ok(repo.tags >= 400, `only ${repo.tags} tags`);
    assert.equal(matrix.rows.length, repo.refs.size);
    assert.ok(repo.buildMs < 20000, `fixture build took ${repo.buildMs} ms`);
  });

  test('every ref: verdicts, variants, zone, rework and reverse equal the expectation of the committed content', () => {
    const wrong: string[] = [];
    for (const r of matrix.rows) {
      const t = repo.refs.get(r.short);
      assert.ok(t, `unexpected ref ${r.short}`);
      const want = t.expect ? t.expect : null;
      const got = t.expect ? observed(r) : null;
      if (JSON.stringify(got) !== JSON.stringify(want) || r.status !== t.status)
        wrong.push(`${r.short}: ${r.status} ${JSON.stringify(got)} != ${t.status} ${JSON.stringify(want)}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('each distinct blob is detected once; many refs share a blob', () => {
    const blobs = new Set(matrix.rows.map((r) => r.blob).filter(Boolean));
    assert.equal(matrix.stats.distinctBlobs, blobs.size);
    assert.equal(matrix.stats.parsedBlobs, blobs.size);
    assert.ok(blobs.size < matrix.rows.length / 3, `${blobs.size} blobs for ${matrix.rows.length} refs`);
  });

  test('nf_nat_core.c: scanned once per distinct blob; its evidence only while the azure posting is applied', () => {
    assert.equal(matrix.stats.natBlobs, 2);
    const wrong: string[] = [];
    for (const r of matrix.rows) {
      const t = repo.refs.get(r.short)!;
      const natEvidence = r.race2.evidence.some((e) => e.path.endsWith('nf_nat_core.c') && e.supports);
      if (natEvidence !== (t.state.race2 === 'azure-952939' && t.status !== 'absent')) wrong.push(r.short);
    }
    assert.deepEqual(wrong, []);
  });

  test('where each fix entered names the right tags on every line', () => {
    const want = truthEvents();
    const got = matrix.entered.map((e) => `${e.line} ${e.fix} ${e.ref}`).sort();
    assert.deepEqual(got, want.entered);
    // Spot checks in words.
    const at = (line: string, fix: FixKey): string | undefined => matrix.entered.find((e) => e.line === line && e.fix === fix)?.ref;
    assert.equal(at('master', 'race1'), 'v4.19-rc1');
    assert.equal(at('master', 'race2'), 'v5.0-rc1');
    assert.equal(at('master', 'race3'), 'v5.6-rc1');
    assert.equal(at('master', 'zone'), 'v5.12-rc1');
    assert.equal(at('linux-4.9.y', 'race1'), undefined, '4.9.y never gets race 1');
    assert.match(at('linux-4.14.y', 'race2') ?? '', /^v4\.14\.\d+$/);
    assert.match(at('linux-4.14.y', 'race1') ?? '', /^v4\.14\.\d+$/);
    assert.equal(matrix.entered.find((e) => e.line === 'bionic-azure' && e.fix === 'race1')?.variant, 'azure-937963');
    assert.equal(matrix.entered.find((e) => e.line === 'bionic-azure' && e.fix === 'race2')?.variant, 'azure-952939');
  });

  test('lost fixes: the azure reverts, the bad merge and the vendor revert, each with its cause', () => {
    const want = truthEvents();
    assert.deepEqual(matrix.lost.map((e) => `${e.line} ${e.fix} ${e.ref}`).sort(), want.lost);
    assert.deepEqual(matrix.restored.map((e) => `${e.line} ${e.fix} ${e.ref}`).sort(), want.restored);
    const causes = matrix.lost.map((l) => `${l.line} ${l.fix} ${l.cause}`).sort();
    assert.deepEqual(causes, [
      'bionic-azure race1 revert',
      'bionic-azure race2 merge',
      'bionic-azure race2 revert',
      'vendor-5.4 race2 revert',
    ]);
    for (const l of matrix.lost) {
      assert.ok(l.commit, `${l.line} ${l.fix}: no commit named`);
      const kind = execFileSync('git', ['cat-file', '-t', l.commit!], { cwd: repo.dir }).toString().trim();
      assert.equal(kind, 'commit');
    }
    const merge = matrix.lost.find((l) => l.cause === 'merge')!;
    const parents = execFileSync('git', ['rev-list', '--parents', '-n1', merge.commit!], { cwd: repo.dir }).toString().trim().split(' ');
    assert.equal(parents.length, 3, 'the bad merge is a merge commit');
  });

  test('history joins per ref: azure posting named, reverts cancel, a bad merge is a disagreement', () => {
    const firstAzure = matrix.entered.find((e) => e.line === 'bionic-azure' && e.fix === 'race1')!.ref;
    const az = rowOf(firstAzure);
    assert.equal(az.race1.variant, 'azure-937963');
    assert.equal(az.race1.decidedBy, 'history');
    assert.ok(az.history.some((h) => h.variant === 'azure-937963' && !h.reverts));
    const badMerge = matrix.lost.find((l) => l.cause === 'merge')!.ref;
    const bm = rowOf(badMerge);
    assert.equal(bm.race2.verdict, 'missing');
    assert.match(bm.race2.disagreement ?? '', /history shows the race 2 fix applied/);
    // Mainline refs contain no azure commit, so the same subject reads as upstream ed07d9a021df.
    assert.equal(rowOf('v4.19').race1.variant, 'ed07d9a021df');
    assert.ok(rowOf('v4.19').history.some((h) => h.variant === 'ed07d9a021df' && h.matchedBy === 'subject'));
    assert.ok(rowOf('v4.18').history.every((h) => h.variant !== 'ed07d9a021df'));
  });

  test('lines follow first-parent order and keep the builder order of tags', () => {
    for (const truth of repo.lines) {
      const line = matrix.lines.find((l) => l.name === truth.branch);
      if (truth.branch === 'docs') {
        assert.equal(line, undefined, 'a line without the file has nothing to order');
        continue;
      }
      assert.ok(line, `no line ${truth.branch}`);
      const kept = truth.refs.filter((r) => line.refs.includes(r));
      assert.deepEqual(line.refs, kept, `${truth.branch}: order differs`);
      // Only refs older than every fix may be left out (they are below the walk's floor).
      const firstCarrying = truth.refs.findIndex((n) => FIX_KEYS.some((f) => truthCarries(repo.refs.get(n)!, f)));
      for (const r of truth.refs.slice(Math.max(0, firstCarrying)))
        if (repo.refs.get(r)!.status !== 'absent') assert.ok(line.refs.includes(r), `${truth.branch}: ${r} missing`);
    }
  });

  test('moved and absent files are reported as such', () => {
    const moved = rowOf('restructure-2');
    assert.equal(moved.status, 'moved');
    assert.equal(moved.path, 'net/netfilter/core/nf_conntrack_core.c');
    assert.match(moved.note ?? '', /not at net\/netfilter\/nf_conntrack_core\.c; found at net\/netfilter\/core\//);
    assert.equal(rowOf('restructure-1').status, 'ok');
    assert.equal(rowOf('tarball-5.0.1').path, 'linux-5.0.1/net/netfilter/nf_conntrack_core.c');
    assert.equal(rowOf('tarball-5.0.1').race2.verdict, 'fixed');
    const docs = rowOf('docs-1');
    assert.equal(docs.status, 'absent');
    assert.equal(docs.race1.verdict, 'unknown');
    assert.match(docs.note ?? '', /no nf_conntrack_core\.c in this tree/);
  });

  test('evidence pointers open the right lines of the file at the ref', () => {
    const r = rowOf('v5.0');
    const p = r.race2.evidence.find((e) => e.supports && e.layer === 'source')!;
    assert.equal(p.ref, 'v5.0');
    assert.equal(p.commit, r.commit);
    const text = execFileSync('git', ['show', `${p.commit}:${p.path}`], { cwd: repo.dir })
      .toString()
      .split('\n');
    const span = text.slice(p.line! - 1, p.endLine ?? p.line).join('\n');
    assert.match(span, /ignored_conntrack|nf_ct_tuple_equal/);
    const h = rowOf('v5.0').race2.evidence.find((e) => e.layer === 'history');
    assert.ok(h && /^[0-9a-f]{40}$/.test(h.commit));
  });

  test('tags carry their tag date; lightweight tags their commit date', () => {
    const annotated = rowOf('v5.0');
    const commitDate = Number(execFileSync('git', ['log', '-1', '--format=%ct', annotated.commit!], { cwd: repo.dir }).toString());
    assert.equal(annotated.date, commitDate + 60);
    const light = rowOf('restructure-1');
    assert.equal(light.date, Number(execFileSync('git', ['log', '-1', '--format=%ct', light.commit!], { cwd: repo.dir }).toString()));
  });
});

describe('sweep selection, progress and cancellation', () => {
  test('a tag pattern sweeps only those tags; lines still come from the branches', async () => {
    const m = await sweep(repo.dir, { refs: ['v4.14.*'] });
    assert.ok(m.rows.length > 10);
    assert.ok(m.rows.every((r) => r.kind === 'tag' && r.short.startsWith('v4.14.')));
    const full = matrix.entered.find((e) => e.line === 'linux-4.14.y' && e.fix === 'race2')!.ref;
    assert.equal(m.entered.find((e) => e.line === 'linux-4.14.y' && e.fix === 'race2')?.ref, full);
  });

  test('remote branches only when asked for', async () => {
    const sha = rowOf('linux-4.19.y').commit!;
    execFileSync('git', ['update-ref', 'refs/remotes/origin/linux-4.19.y', sha], { cwd: repo.dir });
    try {
      const dflt = await sweep(repo.dir, { refs: [], lines: false });
      assert.ok(!dflt.rows.some((r) => r.kind === 'remote'));
      const rem = await sweep(repo.dir, { refs: ['remotes'], lines: false });
      assert.deepEqual(
        rem.rows.map((r) => `${r.kind} ${r.short}`),
        ['remote origin/linux-4.19.y'],
      );
      assert.deepEqual(observed(rem.rows[0]), observed(rowOf('linux-4.19.y')));
    } finally {
      execFileSync('git', ['update-ref', '-d', 'refs/remotes/origin/linux-4.19.y'], { cwd: repo.dir });
    }
  });

  test('refuses patterns and paths that start with a dash', async () => {
    await assert.rejects(sweep(repo.dir, { refs: ['--all'] }), /starts with '-'/);
    await assert.rejects(sweep(repo.dir, { path: '--output=x' }), /not a path/);
  });

  test('progress is reported per phase and an abort stops the sweep', async () => {
    const phases = new Set<string>();
    const ac = new AbortController();
    const seen: SweepProgress[] = [];
    await assert.rejects(
      sweep(repo.dir, {
        refs: ['all'],
        signal: ac.signal,
        onProgress: (p) => {
          phases.add(p.phase);
          seen.push(p);
          if (p.phase === 'detect') ac.abort();
        },
      }),
      (e: unknown) => e instanceof SweepCancelled || (e as Error).name === 'AbortError',
    );
    assert.ok(phases.has('refs') && phases.has('resolve') && phases.has('detect'));
    assert.ok(!phases.has('lines'));
  });

  test('without history the verdicts come from the source alone', async () => {
    const m = await sweep(repo.dir, { refs: ['bionic-azure'], history: false });
    assert.equal(m.rows[0].history.length, 0);
    assert.equal(m.rows[0].race1.decidedBy, 'source');
  });
});

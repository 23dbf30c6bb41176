// The matrix page's pure logic (src/matrix/page/view.ts): filters, sorting, what each row,
// header and progress line says, on hand-made rows and on a real sweep of a generated repository.
// The page's DOM wiring (main.ts) runs in the editor suites.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FastImportWriter } from '../../src/core/fixtures/fastimport';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { sweep } from '../../src/core/matrix';
import type { EvidencePointer, Matrix, MatrixRow, RaceCell } from '../../src/matrix/protocol';
import { DEFAULT_PAGE_STATE, type MatrixPageState, ONLY_VALUES, SORT_KEYS } from '../../src/matrix/state';
import {
  badFilter,
  COLS,
  eventSections,
  headView,
  matchesRow,
  nextSort,
  progressView,
  refPatterns,
  renderedTable,
  rowView,
  statusText,
  VERDICT_ORDER,
  visibleRows,
} from '../../src/matrix/page/view';

const SHA = 'b'.repeat(40);
const ptr = (over: Partial<EvidencePointer> = {}): EvidencePointer => ({
  ref: 'v1',
  commit: SHA,
  path: 'net/netfilter/nf_conntrack_core.c',
  line: 10,
  layer: 'source',
  site: 'sig',
  supports: true,
  ...over,
});
const cell = (verdict: RaceCell['verdict'], over: Partial<RaceCell> = {}): RaceCell => ({
  verdict,
  variant: null,
  explain: `${verdict} because`,
  evidence: [],
  ...over,
});
const feature = (present: boolean | 'unknown') => ({ present, explain: 'f', evidence: [] });

function row(short: string, over: Partial<MatrixRow> = {}): MatrixRow {
  return {
    ref: `refs/tags/${short}`,
    short,
    kind: 'tag',
    date: 1_600_000_000,
    commit: SHA,
    blob: SHA,
    path: 'net/netfilter/nf_conntrack_core.c',
    status: 'ok',
    race1: cell('fixed'),
    race2: cell('fixed'),
    race3: cell('fixed'),
    race4: cell('not-applicable'),
    zone: feature(true),
    rework: feature(true),
    reverse: feature(false),
    history: [],
    ...over,
  };
}

const st = (over: Partial<MatrixPageState> = {}): MatrixPageState => ({ ...DEFAULT_PAGE_STATE, ...over });
const shorts = (rows: MatrixRow[]): string[] => rows.map((r) => r.short);

describe('matrix page: columns and filters', () => {
  test('columns are the host-validated sort keys, race 4 among the races; every show-only value is a filter', () => {
    assert.deepEqual(
      COLS.map((c) => c.key),
      [...SORT_KEYS],
    );
    assert.deepEqual(
      COLS.filter((c) => c.race).map((c) => c.race),
      ['race1', 'race2', 'race3', 'race4'],
    );
    assert.ok(ONLY_VALUES.includes('race4:missing'));
    const rows = [row('a', { race4: cell('missing') }), row('b')];
    for (const only of ONLY_VALUES) assert.doesNotThrow(() => visibleRows(rows, st({ only })));
    assert.deepEqual(shorts(visibleRows(rows, st({ only: 'race4:missing' }))), ['a']);
  });

  test('show only: each race missing, any not fixed (not-applicable is settled), azure, disagreements, moved files', () => {
    const rows = [
      row('all-fixed'),
      row('r1', { race1: cell('missing') }),
      row('r3', { race3: cell('missing') }),
      row('r2-partial', { race2: cell('partial') }),
      row('az', { race1: cell('fixed', { variant: 'azure-937963' }) }),
      row('dis', { race2: cell('fixed', { disagreement: 'history says reverted' }) }),
      row('moved', { status: 'moved', note: 'at net/ipv4/x.c' }),
    ];
    const only = (o: MatrixPageState['only']) => shorts(visibleRows(rows, st({ only: o })));
    assert.deepEqual(only('race1:missing'), ['r1']);
    assert.deepEqual(only('race3:missing'), ['r3']);
    assert.deepEqual(only('race4:missing'), []);
    assert.deepEqual(only('any:not-fixed'), ['r1', 'r2-partial', 'r3'], 'race 4 not in the tree does not count as not fixed');
    assert.deepEqual(only('azure'), ['az']);
    assert.deepEqual(only('disagree'), ['dis']);
    assert.deepEqual(only('status:other'), ['moved']);
    assert.equal(only('').length, rows.length);
  });

  test('text filter matches ref or note case-insensitively; /regex/ matches the ref; a bad regex shows nothing and says so', () => {
    const rows = [row('v5.10.3'), row('v4.19.1', { note: 'Ubuntu fork' }), row('Ubuntu-4.15.0-20.21', { kind: 'branch' })];
    assert.deepEqual(shorts(visibleRows(rows, st({ filter: 'UBUNTU' }))), ['Ubuntu-4.15.0-20.21', 'v4.19.1']);
    assert.deepEqual(shorts(visibleRows(rows, st({ filter: '/^v\\d\\.1/' }))), ['v4.19.1', 'v5.10.3']);
    assert.deepEqual(shorts(visibleRows(rows, st({ filter: '/[/' }))), []);
    assert.ok(badFilter(' /[/ '));
    assert.ok(!badFilter('/v4/') && !badFilter('[') && !badFilter('/'));
    assert.deepEqual(shorts(visibleRows(rows, st({ filter: '[' }))), [], 'plain text, not a regex');
    assert.deepEqual(shorts(visibleRows(rows, st({ kind: 'branch' }))), ['Ubuntu-4.15.0-20.21']);
    assert.ok(matchesRow(rows[0], { kind: '', filter: '   ', only: '' }));
  });
});

describe('matrix page: sorting', () => {
  test('refs sort naturally; ties go by ref name either way', () => {
    const rows = [row('v4.19.10'), row('v4.19.2'), row('v4.9')];
    assert.deepEqual(shorts(visibleRows(rows, st())), ['v4.9', 'v4.19.2', 'v4.19.10']);
    assert.deepEqual(shorts(visibleRows(rows, st({ dir: -1 }))), ['v4.19.10', 'v4.19.2', 'v4.9']);
    const same = [row('b'), row('a'), row('c')];
    assert.deepEqual(shorts(visibleRows(same, st({ sort: 'race4', dir: -1 }))), ['a', 'b', 'c'], 'equal verdicts keep ref order');
  });

  test('every verdict, not-applicable included, has a rank: race columns sort consistently both ways', () => {
    const verdicts = Object.keys(VERDICT_ORDER) as RaceCell['verdict'][];
    assert.deepEqual(verdicts.sort(), ['conditional', 'fixed', 'missing', 'not-applicable', 'partial', 'unknown']);
    const rows = [
      row('u', { race4: cell('unknown') }),
      row('m', { race4: cell('missing') }),
      row('na', { race4: cell('not-applicable') }),
      row('f', { race4: cell('fixed') }),
      row('p', { race4: cell('partial') }),
      row('na2', { race4: cell('not-applicable') }),
    ];
    const up = shorts(visibleRows(rows, st({ sort: 'race4' })));
    assert.deepEqual(up, ['f', 'na', 'na2', 'p', 'm', 'u']);
    // Descending is the reverse of ascending, except that equal verdicts stay in ref order.
    assert.deepEqual(shorts(visibleRows(rows, st({ sort: 'race4', dir: -1 }))), ['u', 'm', 'p', 'na', 'na2', 'f']);
    // Whatever the input order, the same output (a comparator with NaN would not give this).
    for (let k = 0; k < rows.length; k++) {
      const rotated = [...rows.slice(k), ...rows.slice(0, k)];
      assert.deepEqual(shorts(visibleRows(rotated, st({ sort: 'race4' }))), up);
    }
  });

  test('the plain upstream fix sorts before its variants; features yes, no, unknown; dates numerically', () => {
    const rows = [
      row('az', { race1: cell('fixed', { variant: 'azure-937963' }) }),
      row('up', { race1: cell('fixed', { variant: 'ed07d9a021df' }) }),
    ];
    assert.deepEqual(shorts(visibleRows(rows, st({ sort: 'race1' }))), ['up', 'az']);
    const fs = [row('u', { zone: feature('unknown') }), row('n', { zone: feature(false) }), row('y', { zone: feature(true) })];
    assert.deepEqual(shorts(visibleRows(fs, st({ sort: 'zone' }))), ['y', 'n', 'u']);
    const ds = [row('late', { date: 1_700_000_000 }), row('none', { date: null }), row('early', { date: 900_000_000 })];
    assert.deepEqual(shorts(visibleRows(ds, st({ sort: 'date' }))), ['none', 'early', 'late']);
  });

  test('a header click flips the sorted column and starts another ascending; headers say which is sorted', () => {
    assert.deepEqual(nextSort({ sort: 'ref', dir: 1 }, 'ref'), { sort: 'ref', dir: -1 });
    assert.deepEqual(nextSort({ sort: 'ref', dir: -1 }, 'ref'), { sort: 'ref', dir: 1 });
    assert.deepEqual(nextSort({ sort: 'ref', dir: -1 }, 'race4'), { sort: 'race4', dir: 1 });
    const heads = headView({ sort: 'race2', dir: -1 });
    assert.equal(heads.length, COLS.length);
    const r2 = heads.find((x) => x.key === 'race2')!;
    assert.equal(r2.ariaSort, 'descending');
    assert.match(r2.cls, /sorted desc/);
    assert.ok(heads.filter((x) => x.key !== 'race2').every((x) => x.ariaSort === 'none'));
    assert.match(heads.find((x) => x.key === 'race4')!.title ?? '', /nfqueue.*8af79d3edb5f/);
  });
});

describe('matrix page: rows, progress and events as structures', () => {
  test('a row becomes one cell per column with verdict text, evidence links and the disagreement flag', () => {
    const src = ptr({ supports: false });
    const hist = ptr({ layer: 'history', ref: 'abc123', line: undefined, site: 'netfilter: fix' });
    const supporting = ptr({ line: 42 });
    const r = row('v5.10', {
      race1: cell('missing', { evidence: [src, supporting, hist], disagreement: 'history has the fix' }),
      race2: cell('fixed', { variant: 'azure-952939' }),
      race4: cell('not-applicable'),
      status: 'moved',
      note: 'found at net/x.c',
    });
    const v = rowView(r);
    assert.equal(v.cls, 'row-moved');
    assert.deepEqual(
      v.cells.map((c) => c.key),
      [...SORT_KEYS],
    );
    const by = (k: string) => v.cells.find((c) => c.key === k)!;
    assert.equal(by('ref').text, 'v5.10');
    assert.match(by('ref').title!, /refs\/tags\/v5\.10\nb{40}\nnet\/netfilter/);
    assert.equal(by('date').text, '2020-09-13');
    const r1 = by('race1');
    assert.equal(r1.text, 'missing');
    assert.equal(r1.cls, 'verdict v-missing disagree');
    assert.equal(r1.open, supporting, 'the link opens the supporting evidence first');
    assert.equal(r1.history, hist);
    assert.equal(r1.flag, true);
    assert.match(r1.title!, /^Race 1: .*\nmissing because\n⚠ history has the fix$/);
    assert.equal(by('race2').text, 'fixed');
    assert.equal(by('race2').sub, 'azure-952939');
    assert.equal(by('race2').open, undefined);
    assert.equal(by('race4').text, 'not in this tree');
    assert.equal(by('race4').cls, 'verdict v-not-applicable');
    assert.equal(by('zone').text, 'yes');
    assert.equal(by('reverse').text, 'no');
    assert.equal(by('status').text, 'moved');
    assert.equal(by('status').title, 'found at net/x.c');
    assert.equal(rowView(row('ok')).cells.at(-1)!.text, '');
  });

  test('progress says the phase work done/total, refs answered, refs/s and the current ref; the bar follows the refs', () => {
    const p = progressView({
      type: 'progress',
      phase: 'detect',
      message: 'detecting blob 17 of 40',
      done: 17,
      total: 40,
      refs: 120,
      refsDone: 25,
      refsPerSecond: 31.7,
      current: 'v5.10.3',
    });
    assert.equal(p.text, 'detecting blob 17 of 40 · 25/120 refs · 32 refs/s · at v5.10.3');
    assert.ok(Math.abs(p.value! - 25 / 120) < 1e-9);
    const q = progressView({ type: 'progress', phase: 'resolve', message: 'resolving', done: 3, total: 8, refsPerSecond: 2.345 });
    assert.equal(q.text, 'resolving · 3/8 · 2.3 refs/s');
    assert.equal(q.value, 3 / 8);
    const r = progressView({ type: 'progress', phase: 'refs', message: '', done: 0, total: 0, refsPerSecond: Infinity });
    assert.deepEqual(r, { value: undefined, text: 'listing refs' });
    const h = progressView({
      type: 'progress',
      phase: 'history',
      message: 'reading history of the file',
      done: 0,
      total: 1,
      refs: 4,
      refsDone: 9,
    });
    assert.deepEqual(h, { value: 1, text: 'reading history of the file · 4/4 refs' }, 'no 0/1 for a one-step phase; refs capped');
  });

  test('status line, event sections (empty ones left out), ref patterns', () => {
    const m = {
      rows: [row('a'), row('b')],
      stats: { distinctBlobs: 2, ms: { total: 1234 } },
      entered: [{ fix: 'race1', line: 'master', ref: 'v2', date: null, variant: 'ed07d9a021df' }],
      lost: [],
      restored: [],
      warnings: ['w1'],
    } as unknown as Matrix;
    assert.equal(statusText(m, 1, 'kept'), 'kept · 1 of 2 refs shown · 2 distinct blobs · swept in 1.2 s');
    assert.deepEqual(eventSections(m), [
      { title: 'Where each fix entered', items: ['race1 on master: v2 (ed07d9a021df)'] },
      { title: 'Warnings', items: ['w1'] },
    ]);
    assert.deepEqual(refPatterns('  v4.19.*\tUbuntu-*  '), ['v4.19.*', 'Ubuntu-*']);
  });
});

describe('matrix page on a real sweep', () => {
  let tmp: string;
  let matrix: Matrix;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-matrix-page-'));
    const repo = path.join(tmp, 'linux');
    const w = new FastImportWriter();
    const f = 'net/netfilter/nf_conntrack_core.c';
    const releases = [
      { tag: 'v4.15', era: '4.15', race2: 'none' },
      { tag: 'v5.10', era: '5.10', race2: 'upstream', race4: 'old' },
      { tag: 'v6.13', era: '6.13', race2: 'upstream', race4: 'fixed' },
    ] as const;
    let head: number | undefined;
    let t = 1_500_000_000;
    for (const r of releases) {
      const text = generateConntrackCore({
        era: r.era,
        race1: 'upstream',
        race2: r.race2,
        seed: 3,
        ...('race4' in r ? { race4: r.race4 } : {}),
      }).text;
      head = w.commit({
        ref: 'refs/heads/master',
        ...(head === undefined ? {} : { from: head }),
        files: { [f]: text },
        message: `${r.tag}\n`,
        time: t,
      });
      w.tag(r.tag, head, `${r.tag}\n`, t + 10);
      t += 10_000_000;
    }
    w.resetBranch('refs/heads/master', head!);
    await w.run(repo);
    matrix = await sweep(repo, { refs: ['tags'] });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('the race 4 column shows each tree as the generator wrote it, and its filter and sort follow', () => {
    const race4 = Object.fromEntries(
      matrix.rows.map((r) => {
        const c = rowView(r).cells.find((x) => x.key === 'race4')!;
        return [r.short, [c.text, c.sub]];
      }),
    );
    assert.deepEqual(race4, {
      'v4.15': ['not in this tree', undefined],
      'v5.10': ['missing', undefined],
      'v6.13': ['fixed', 'nfqueue-2024'],
    });
    // The page's render acknowledgement says the table as header and cells (variants after a ·).
    const said = renderedTable(headView(st()), visibleRows(matrix.rows, st()).map(rowView), 2).split('\n');
    assert.equal(said.length, 3, 'the header and at most 2 rows');
    assert.match(said[0], /^Ref\|Kind\|Date\|Race 1\|Race 2\|Race 3\|Race 4\|/);
    assert.match(said[2], /^v5\.10\|tag\|.*\|missing\|/);
    assert.deepEqual(shorts(visibleRows(matrix.rows, st({ only: 'race4:missing' }))), ['v5.10']);
    assert.deepEqual(shorts(visibleRows(matrix.rows, st({ sort: 'race4' }))), ['v6.13', 'v4.15', 'v5.10']);
    assert.deepEqual(shorts(visibleRows(matrix.rows, st({ only: 'race2:missing' }))), ['v4.15']);
    const v510 = rowView(matrix.rows.find((r) => r.short === 'v5.10')!).cells.find((c) => c.key === 'race4')!;
    assert.ok(v510.open, 'the missing race-4 cell links to its evidence');
    assert.equal(v510.open!.path, 'net/netfilter/nf_conntrack_core.c');
  });
});

// Evidence import: a node's conntrack -S beside the model's prediction for the detected variant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConntrackStatsError } from '../../src/core/conntrackStats';
import { importStatsText, unjoinRows } from '../../src/simulation/evidence';

const OLD = `cpu=0   \tfound=4601 invalid=2157 ignore=0 insert=0 insert_failed=74 drop=74 early_drop=0 error=0 search_restart=100
cpu=1   \tfound=7545 invalid=3952 ignore=0 insert=0 insert_failed=175 drop=175 early_drop=0 error=0 search_restart=159`;
const NEW = `cpu=0 found=0 invalid=12 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=3 chaintoolong=0
cpu=1 found=1 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=2 clash_resolve=5 chaintoolong=0`;
const PROC = `entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
0000002a  00000000 00000010 00000000 00000003 00000001 00000000 00000000 00000000 00000005 00000005 00000000 00000000  00000000 00000000 00000000 00000001`;

test('an old node with unresolved clashes, beside the no-fix model', () => {
  const v = importStatsText(OLD, 'clipboard', { variant: 'none' });
  assert.equal(v.format, 'netlink');
  assert.equal(v.node.rows.length, 2);
  assert.equal(v.node.totals[v.node.columns.indexOf('drop')], 249);
  assert.match(v.summary, /unresolved/);
  assert.ok(v.model, 'model rows are shown');
  assert.deepEqual(v.model!.table.columns, v.node.columns, 'same columns side by side');
  assert.ok(v.model!.dropRate > 0);
  assert.ok(v.sentences.some((s) => /also predicts drops: consistent/.test(s)));
  assert.ok(
    v.sentences.some((s) => /race 1 .*ed07d9a021df missing/.test(s)),
    'names the open race',
  );
});

test('a reworked node against a pre-rework tree says the node may not run this tree', () => {
  const v = importStatsText(NEW, 'file', { variant: 'ed07d9a' });
  assert.match(v.summary, /2020 rework present/);
  assert.ok(v.sentences.some((s) => /may not run this tree/.test(s)));
  assert.ok(v.node.columns.includes('clash_resolve'));
});

test('the /proc fallback and no detected tree: the node alone', () => {
  const v = importStatsText(PROC, 'x.ctstat');
  assert.equal(v.format, 'proc');
  assert.equal(v.model, undefined);
  assert.equal(v.node.totals[v.node.columns.indexOf('insert_failed')], 5);
});

test("garbage is refused with the parser's message; a joined paste is split again", () => {
  assert.throws(() => importStatsText('hello world', 'clipboard'), ConntrackStatsError);
  const joined = OLD.replace(/\n/g, ' ');
  assert.equal(unjoinRows(joined).split('\n').length, 2);
  assert.equal(importStatsText(unjoinRows(joined), 'input').node.rows.length, 2);
});

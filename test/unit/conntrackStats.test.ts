import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConntrackStatsError, interpretStats, parseConntrackStats } from '../../src/core/conntrackStats';

const SEED001 = `$ conntrack -S
cpu=0   \tfound=4601 invalid=2157 ignore=0 insert=0 insert_failed=74 drop=74 early_drop=0 error=0 search_restart=100
cpu=1   \tfound=7545 invalid=3952 ignore=0 insert=0 insert_failed=175 drop=175 early_drop=0 error=0 search_restart=159
cpu=2   \tfound=3810 invalid=1871 ignore=2 insert=0 insert_failed=56 drop=56 early_drop=0 error=0 search_restart=72
[...]`;

const NEW = `cpu=0 found=0 invalid=12 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=3 chaintoolong=0
cpu=1 found=1 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=2 clash_resolve=5 chaintoolong=0
entries=42 count=42`;

const PROC = `entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
0000002a  00000000 00000010 00000000 00000003 00000001 00000000 00000000 00000000 00000005 00000005 00000000 00000000  00000000 00000000 00000000 00000001
0000002a  00000000 00000020 00000000 00000000 00000000 00000000 00000000 00000000 0000000a 0000000a 00000002 00000001  00000000 00000000 00000000 00000000`;

test('netlink rows from seed 001', () => {
  const s = parseConntrackStats(SEED001);
  assert.equal(s.format, 'netlink');
  assert.equal(s.cpus.length, 3);
  assert.equal(s.totals.insert_failed, 305);
  assert.equal(s.totals.drop, 305);
  assert.equal(s.totals.found, 15956);
  assert.ok(!s.present.includes('clash_resolve'));
  const r = interpretStats(s);
  assert.match(r.summary, /insert_failed rises with drop equal.*race 1\/2 unresolved/);
  assert.equal(r.unresolvedClashes, true);
  assert.equal(r.rework2020, false);
});

test('newer conntrack-tools: clash_resolve, chaintoolong, summary line', () => {
  const s = parseConntrackStats(NEW);
  assert.equal(s.totals.clash_resolve, 8);
  assert.equal(s.entries, 42);
  assert.deepEqual(s.summary, { entries: 42, count: 42 });
  assert.ok(s.present.includes('chaintoolong'));
  const r = interpretStats(s, { variant: 'rework2020', counters: { drop: 0 } });
  assert.match(r.summary, /2020 rework present/);
  assert.equal(r.rework2020, true);
  assert.equal(r.unresolvedClashes, false);
});

test('/proc/net/stat/nf_conntrack hex fallback', () => {
  const s = parseConntrackStats(PROC);
  assert.equal(s.format, 'proc');
  assert.equal(s.cpus.length, 2);
  assert.equal(s.entries, 42);
  assert.equal(s.totals.found, 0x30);
  assert.equal(s.totals.insert_failed, 15);
  assert.equal(s.totals.error, 1);
  assert.equal(s.totals.early_drop, 2);
  assert.equal(s.cpus[0].extra.searched, 0);
  const r = interpretStats(s, { variant: 'both', counters: { drop: 0 } });
  assert.ok(r.sentences.some((x) => /early_drop=2/.test(x)));
  assert.ok(r.sentences.some((x) => /predicts no drops/.test(x)));
});

test('garbage is a clear error', () => {
  assert.throws(() => parseConntrackStats(''), ConntrackStatsError);
  assert.throws(() => parseConntrackStats('hello world'), /not conntrack statistics/);
  assert.throws(() => parseConntrackStats('cpu=0 found=x1'), /bad value/);
  assert.throws(() => parseConntrackStats('entries found drop insert\n0001 zz 0 0'), /not a hex value/);
  assert.throws(() => parseConntrackStats('entries found drop insert\n0001 0 0'), /columns/);
});

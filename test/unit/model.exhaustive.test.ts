import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exploreScenario } from '../../src/core/model/exhaustive';
import { MODEL_VARIANT_IDS, type ModelVariantId } from '../../src/core/model/variants';

// Exact counts of dropping schedules for 2 racing packets: [schedules, dropping schedules] per variant.
// Reasoning for dns-snat (3 steps each, 20 interleavings): 2 schedules finish one packet before the
// other's lookup (found); 12 have both packets SNAT before either confirms (race 1: identical
// tuples); 6 have the second SNAT after the first confirm (race 2: the port moves).
const TABLE: Record<string, [number, Record<ModelVariantId, number>]> = {
  'dns-snat': [20, { none: 18, ed07d9a: 6, '4e35c1cb': 18, both: 0, 'both+zone': 0, azure: 0, rework2020: 0, reverse2024: 0 }],
  'null-binding': [20, { none: 18, ed07d9a: 6, '4e35c1cb': 18, both: 0, 'both+zone': 0, azure: 0, rework2020: 0, reverse2024: 0 }],
  'dns-vip': [276, { none: 272, ed07d9a: 192, '4e35c1cb': 272, both: 136, 'both+zone': 136, azure: 136, rework2020: 0, reverse2024: 0 }],
  'dns-vip-snat': [
    276,
    { none: 272, ed07d9a: 192, '4e35c1cb': 272, both: 136, 'both+zone': 136, azure: 136, rework2020: 0, reverse2024: 0 },
  ],
  'no-nat': [6, { none: 0, ed07d9a: 0, '4e35c1cb': 0, both: 0, 'both+zone': 0, azure: 0, rework2020: 0, reverse2024: 0 }],
  'dns-zones': [20, { none: 12, ed07d9a: 12, '4e35c1cb': 20, both: 20, 'both+zone': 12, azure: 12, rework2020: 12, reverse2024: 12 }],
  'udp-reverse': [20, { none: 18, ed07d9a: 18, '4e35c1cb': 18, both: 18, 'both+zone': 18, azure: 18, rework2020: 12, reverse2024: 0 }],
  'tcp-masquerade': [70, { none: 40, ed07d9a: 40, '4e35c1cb': 40, both: 40, 'both+zone': 40, azure: 40, rework2020: 40, reverse2024: 40 }],
  'table-overflow': [4, { none: 2, ed07d9a: 2, '4e35c1cb': 2, both: 2, 'both+zone': 2, azure: 2, rework2020: 2, reverse2024: 2 }],
};

// These counts are for the rover-era port allocator (pre-2022 trees); the reverse2024 variant runs
// the random-start era by default, tested in model.scenarios.test.ts.
for (const [scenario, [schedules, drops]] of Object.entries(TABLE)) {
  for (const v of MODEL_VARIANT_IDS) {
    test(`exhaustive ${scenario} x ${v}: ${drops[v]}/${schedules} dropping schedules`, () => {
      const r = exploreScenario(scenario, v, { maxTraces: 1, overrides: { natEra: 'rover' } });
      assert.equal(r.schedules, schedules);
      assert.equal(r.dropSchedules, drops[v]);
      assert.equal(r.traces.length, drops[v] > 0 ? 1 : 0);
    });
  }
}

test('race classification: no fix drops race 1 and race 2; ed07d9a leaves race 2; both leaves race 3 with 2 endpoints', () => {
  assert.deepEqual(exploreScenario('dns-snat', 'none').causes, { race1: 12, race2: 6 });
  assert.deepEqual(exploreScenario('dns-snat', 'ed07d9a').causes, { race2: 6 });
  assert.deepEqual(exploreScenario('dns-snat', '4e35c1cb').causes, { race1: 18 });
  assert.deepEqual(exploreScenario('dns-vip', 'both').causes, { race3: 136 });
});

test('counter eras: pre-2020 every clash bumps insert_failed; the rework counts successes in clash_resolve', () => {
  const both = exploreScenario('dns-snat', 'both');
  assert.equal(both.counters.insert_failed, 18);
  assert.equal(both.counters.drop, 0);
  const ed = exploreScenario('dns-snat', 'ed07d9a');
  assert.equal(ed.counters.insert_failed, 18);
  assert.equal(ed.counters.drop, 6);
  const rw = exploreScenario('dns-vip', 'rework2020');
  assert.equal(rw.counters.clash_resolve, 272);
  assert.equal(rw.counters.insert_failed, 0);
  assert.equal(rw.counters.drop, 0);
  assert.ok((rw.outcomes['inserted,clash-inserted'] ?? 0) > 0, 'race 3 resolved by NAT_CLASH insert');
});

test('DNAT endpoints: with both fixes only schedules where endpoints differ drop; 1 endpoint never drops', () => {
  assert.equal(exploreScenario('dns-vip', 'both', { overrides: { endpoints: 1 } }).dropSchedules, 0);
  const r3 = exploreScenario('dns-vip', 'both', { overrides: { endpoints: 3 } });
  assert.ok(r3.dropSchedules > 0);
  assert.deepEqual(Object.keys(r3.causes), ['race3']);
});

test('drop traces name the deciding kernel function per CPU lane', () => {
  const r = exploreScenario('dns-snat', 'ed07d9a', { maxTraces: 10 });
  assert.equal(r.traces.length, 6);
  const t = r.traces[0];
  const decisive = t.events.filter((e) => e.decisive);
  assert.ok(
    decisive.some((e) => e.fn === 'nf_conntrack_tuple_taken'),
    'race 2 starts at tuple_taken',
  );
  assert.equal(decisive[decisive.length - 1].fn, 'nf_ct_resolve_clash');
  assert.deepEqual([...new Set(t.events.map((e) => e.cpu))].sort(), [0, 1]);
});

test('table overflow what-if: early drop considering closing TCP removes the table-full drops', () => {
  const base = exploreScenario('table-overflow', 'both');
  assert.deepEqual(base.causes, { 'table-full': 2 });
  assert.ok(base.counters.early_drop > 0);
  const w = exploreScenario('table-overflow', 'both', {
    overrides: { whatIf: { earlyDropClosing: true, softTimeout: 0, adaptiveThreshold: 0 } },
  });
  assert.equal(w.dropSchedules, 0);
  const soft = exploreScenario('table-overflow', 'both', {
    overrides: { whatIf: { earlyDropClosing: false, softTimeout: 300, adaptiveThreshold: 0 } },
  });
  assert.equal(soft.dropSchedules, 0);
});

test('single CPU or single-request: no interleaving, no drop even without fixes', () => {
  assert.equal(exploreScenario('dns-snat', 'none', { overrides: { cpus: 1 } }).dropSchedules, 0);
  assert.equal(exploreScenario('dns-snat', 'none', { overrides: { resolver: 'single-request' } }).dropSchedules, 0);
  assert.equal(exploreScenario('dns-snat', 'none', { overrides: { resolver: 'single-request-reopen' } }).dropSchedules, 0);
});

test('3 and 4 packets stay exact; dedup and naive agree', () => {
  const a = exploreScenario('dns-snat', 'ed07d9a', { overrides: { packets: 3, cpus: 3 } });
  const b = exploreScenario('dns-snat', 'ed07d9a', { overrides: { packets: 3, cpus: 3 }, dedup: false });
  assert.equal(a.schedules, b.schedules);
  assert.equal(a.dropSchedules, b.dropSchedules);
  assert.deepEqual(a.counters, b.counters);
  assert.ok(a.states < b.states);
  const four = exploreScenario('dns-snat', 'both', { overrides: { packets: 4, cpus: 4 }, maxTraces: 0 });
  assert.equal(four.dropSchedules, 0);
  assert.ok(four.schedules > 100000);
  const four0 = exploreScenario('dns-snat', 'none', { overrides: { packets: 4, cpus: 4 }, maxTraces: 0 });
  assert.ok(four0.dropSchedules > 0.9 * four0.schedules);
});

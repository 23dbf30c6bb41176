import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monteCarloScenario } from '../../src/core/model/montecarlo';
import { runOverflow } from '../../src/core/model/overflow';
import { runSimulateCommand } from '../../src/core/model/cli';
import { wilson } from '../../src/core/model/rng';

const N = 100000;

test('DNS through SNAT, seed 42: drop rates per variant fall in stated bounds', () => {
  const none = monteCarloScenario('dns-snat', 'none', { trials: N, seed: 42 });
  const ed = monteCarloScenario('dns-snat', 'ed07d9a', { trials: N, seed: 42 });
  const both = monteCarloScenario('dns-snat', 'both', { trials: N, seed: 42 });
  const rw = monteCarloScenario('dns-snat', 'rework2020', { trials: N, seed: 42 });
  // With the timing knobs fitted on the netns kernel runs (MODEL.md: ~0.8 % of rounds clash).
  assert.ok(none.dropRate > 0.003 && none.dropRate < 0.0055, `none ${none.dropRate}`);
  assert.ok(ed.dropRate > 0.0013 && ed.dropRate < 0.0028, `ed07d9a ${ed.dropRate}`);
  assert.ok(ed.dropRate < none.dropRate);
  assert.deepEqual(Object.keys(ed.causes), ['race2']);
  assert.equal(both.dropped, 0);
  assert.ok(both.counters.insert_failed > 0, 'pre-2020: merged clashes still count insert_failed');
  assert.equal(rw.dropped, 0);
  assert.equal(rw.counters.insert_failed, 0);
  assert.ok(rw.counters.clash_resolve > 0);
  // 5 s per lost packet: mean lookup latency without fix is the resolver timeout times the delayed share (10 s when the retry is lost too).
  const L = none.latency;
  assert.ok(L.delayed > 0 && L.meanS >= 5 * L.delayedRate - 1e-12 && L.meanS <= 10 * L.delayedRate + 1e-12, JSON.stringify(L));
});

test('Monte Carlo is deterministic for a seed', () => {
  const a = monteCarloScenario('dns-vip', 'both', { trials: 20000, seed: 7 });
  const b = monteCarloScenario('dns-vip', 'both', { trials: 20000, seed: 7 });
  assert.equal(a.dropped, b.dropped);
  assert.deepEqual(a.perCpu, b.perCpu);
  assert.ok(a.dropped > 0);
});

test('DNS to a VIP with 2 endpoints: both fixes still drop (race 3), the rework does not', () => {
  const both = monteCarloScenario('dns-vip', 'both', { trials: N, seed: 3 });
  const rw = monteCarloScenario('dns-vip', 'rework2020', { trials: N, seed: 3 });
  assert.ok(both.dropRate > 0.0004, `${both.dropRate}`);
  assert.deepEqual(Object.keys(both.causes), ['race3']);
  assert.equal(rw.dropped, 0);
  assert.ok(rw.counters.clash_resolve > 0);
});

test('seed 001: --random-fully cuts TCP connect failures >= 10x against the default rover', () => {
  const def = monteCarloScenario('tcp-masquerade', 'both', { trials: N, seed: 1 });
  const rf = monteCarloScenario('tcp-masquerade-random-fully', 'both', { trials: N, seed: 1 });
  // Seed 001 measured 2268/101498 = 2.2 %; the preset's skew is calibrated to land there.
  assert.ok(def.dropRate > 0.012 && def.dropRate < 0.035, `default ${def.dropRate}`);
  assert.ok(def.dropped >= 10 * Math.max(1, rf.dropped), `default ${def.dropped} vs random-fully ${rf.dropped}`);
  assert.ok(def.counters.insert_failed === def.counters.drop, 'TCP never merges: insert_failed == drop');
  assert.ok(def.latency.p99S >= 1 || def.latency.delayed > 0);
});

test('single CPU: no race in Monte Carlo either', () => {
  assert.equal(monteCarloScenario('dns-snat', 'none', { trials: 20000, seed: 5, overrides: { cpus: 1 } }).dropped, 0);
});

test('table overflow timed run: drops, early drops, and the what-ifs reduce drops', () => {
  const base = runOverflow('both', { seed: 1, overrides: { durationS: 300 } });
  assert.ok(
    base.dropped > 0 && base.earlyDrops > 0 && base.fullFraction > 0.3,
    JSON.stringify({ d: base.dropped, e: base.earlyDrops, f: base.fullFraction }),
  );
  const closing = runOverflow('both', {
    seed: 1,
    overrides: { durationS: 300, whatIf: { earlyDropClosing: true, softTimeout: 0, adaptiveThreshold: 0 } },
  });
  const soft = runOverflow('both', {
    seed: 1,
    overrides: { durationS: 300, whatIf: { earlyDropClosing: false, softTimeout: 30, adaptiveThreshold: 0 } },
  });
  const adaptive = runOverflow('both', {
    seed: 1,
    overrides: { durationS: 300, whatIf: { earlyDropClosing: false, softTimeout: 0, adaptiveThreshold: 0.8 } },
  });
  for (const w of [closing, soft, adaptive]) assert.ok(w.dropRate < base.dropRate * 0.8, `${w.dropRate} vs ${base.dropRate}`);
});

test('Wilson interval', () => {
  const [lo, hi] = wilson(50, 1000);
  assert.ok(lo > 0.037 && lo < 0.039 && hi > 0.065 && hi < 0.067, `${lo} ${hi}`);
  assert.deepEqual(wilson(0, 0), [0, 1]);
});

test('runSimulateCommand: text and json for both engines, errors for unknown names', () => {
  const ex = runSimulateCommand({ scenario: 'dns-snat', variant: 'ed07d9a', exhaustive: true });
  assert.match(ex.text, /dropping: 6/);
  assert.match(ex.text, /nf_ct_resolve_clash/);
  assert.equal((ex.json as { dropSchedules: number }).dropSchedules, 6);
  const mc = runSimulateCommand({ scenario: 'dns-snat', variant: 'none', trials: 5000, seed: 2 });
  assert.match(mc.text, /cpu=0\tfound=/);
  assert.equal((mc.json as { trials: number }).trials, 5000);
  const of = runSimulateCommand({ scenario: 'table-overflow', variant: 'both', overrides: { durationS: 60 } });
  assert.match(of.text, /early_drop/);
  assert.throws(() => runSimulateCommand({ scenario: 'nope', variant: 'none' }), /unknown scenario/);
  assert.throws(() => runSimulateCommand({ scenario: 'dns-snat', variant: 'nope' }), /unknown variant/);
  assert.match(runSimulateCommand({ scenario: 'dns-snat', variant: 'azure', trials: 100 }).text, /HYPOTHESIS|hypothesis/);
});

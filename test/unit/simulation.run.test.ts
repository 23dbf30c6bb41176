// The panel's run on the host: both variants side by side, chunked Monte Carlo that can be
// cancelled, reproducible for a seed, and equal to the CLI's engine for one chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monteCarloScenario } from '../../src/core/model/montecarlo';
import { CHUNK, RunCancelled, mergeLatency, runSimulation } from '../../src/simulation/run';
import { defaultRequest } from '../../src/simulation/shape';
import type { RunRequest } from '../../src/simulation/protocol';

const hooks = () => ({ signal: { cancelled: false } });

function req(scenario: string, over: Partial<RunRequest> = {}): RunRequest {
  return { ...defaultRequest(scenario), trials: 5_000, sweep: 'none', ...over };
}

test('DNS through SNAT: no fix drops, both fixes do not; lanes and counters come with it', async () => {
  const r = await runSimulation(1, req('dns-snat', { variants: { mode: 'manual', before: 'none', after: 'both' } }), undefined, hooks());
  const [before, after] = r.columns;
  assert.equal(before.variant, 'none');
  assert.ok(before.mc.dropped > 0 && before.mc.dropCi[0] > 0);
  assert.equal(after.mc.dropped, 0);
  assert.ok(before.mc.latency.sentence.includes('5 s'));
  assert.ok(before.exhaustive.dropSchedules > 0 && before.exhaustive.traces.length > 0);
  assert.equal(after.exhaustive.dropSchedules, 0);
  const cols = before.mc.counters.columns;
  assert.ok(!cols.includes('clash_resolve'), 'pre-2020 era columns');
  assert.equal(before.mc.counters.rows.length, 2, 'one row per CPU');
  const drop = before.mc.counters.totals[cols.indexOf('drop')];
  assert.equal(drop, before.mc.dropped, 'drop counter = dropped packets');
});

test('detected mode compares the tree against the planned backport', async () => {
  const det = { file: '/k/nf_conntrack_core.c', variant: 'ed07d9a' as const, after: 'both' as const, caveats: [], exact: true };
  const r = await runSimulation(2, req('dns-snat', { variants: { mode: 'detected' } }), det, hooks());
  assert.deepEqual(
    r.columns.map((c) => c.variant),
    ['ed07d9a', 'both'],
  );
  assert.equal(r.detection?.variant, 'ed07d9a');
});

test('one chunk equals the CLI engine for the same seed; more chunks stay reproducible', async () => {
  const one = await runSimulation(
    3,
    req('dns-vip', { trials: CHUNK, seed: 9, variants: { mode: 'manual', before: 'none', after: 'rework2020' } }),
    undefined,
    hooks(),
  );
  const cli = monteCarloScenario('dns-vip', 'none', { trials: CHUNK, seed: 9 });
  assert.equal(one.columns[0].mc.dropped, cli.dropped);
  assert.equal(one.columns[0].mc.latency.delayed, cli.latency.delayed);
  assert.equal(one.columns[0].mc.latency.p99S, cli.latency.p99S);
  const many = req('dns-vip', { trials: 2.5 * CHUNK, seed: 9, variants: { mode: 'manual', before: 'none', after: 'rework2020' } });
  const a = await runSimulation(4, many, undefined, hooks());
  const b = await runSimulation(5, many, undefined, hooks());
  assert.deepEqual(a.columns[0].mc, { ...b.columns[0].mc, trialsPerSec: a.columns[0].mc.trialsPerSec });
  assert.equal(a.columns[0].mc.trials, 2.5 * CHUNK);
  // Counters are the run's own increments, not carried over between chunks twice.
  const cols = a.columns[0].mc.counters.columns;
  assert.equal(a.columns[0].mc.counters.totals[cols.indexOf('drop')], a.columns[0].mc.dropped);
  assert.ok(a.columns[1].mc.counters.columns.includes('clash_resolve'), 'post-2020 era columns');
});

test('cancel stops a run between chunks', async () => {
  const h = {
    signal: { cancelled: false },
    onProgress: (done: number) => {
      if (done > 0) h.signal.cancelled = true;
    },
  };
  await assert.rejects(runSimulation(6, req('dns-snat', { trials: 10 * CHUNK }), undefined, h), RunCancelled);
});

test('progress is reported up to the total', async () => {
  const seen: [number, number][] = [];
  await runSimulation(7, req('dns-snat', { trials: 2 * CHUNK, sweep: 'packets' }), undefined, {
    signal: { cancelled: false },
    onProgress: (d, t) => seen.push([d, t]),
  });
  const [d, t] = seen[seen.length - 1];
  assert.equal(d, t);
  assert.ok(
    seen.every(([x], i) => i === 0 || x >= seen[i - 1][0]),
    'monotonic',
  );
});

test('the sweep runs both variants over the knob values', async () => {
  // A short skew (a quiet node) so that 500 trials per point see races.
  const knobs = { ...defaultRequest('dns-snat').knobs, skewUs: 20 };
  const r = await runSimulation(
    8,
    req('dns-snat', { knobs, sweep: 'packets', variants: { mode: 'manual', before: 'none', after: 'both' } }),
    undefined,
    hooks(),
  );
  assert.equal(r.sweep?.series.length, 2);
  const [b, a] = r.sweep!.series;
  assert.deepEqual(
    b.points.map((p) => p.x),
    [1, 2, 3, 4],
  );
  assert.equal(b.points[0].rate, 0, 'one packet cannot race');
  assert.ok(b.points[1].rate > 0);
  assert.ok(a.points.every((p) => p.rate === 0));
  for (const p of b.points) assert.ok(p.lo <= p.rate && p.rate <= p.hi);
});

test('overflow preset adds the timed run; exhaustive errors are reported, not thrown', async () => {
  const r = await runSimulation(9, req('table-overflow', { trials: 1000 }), undefined, hooks());
  assert.ok(r.columns[0].overflow && r.columns[0].overflow.flows > 0);
  const big = await runSimulation(
    10,
    req('dns-vip', { trials: 1000, knobs: { ...defaultRequest('dns-vip').knobs, packets: 4, endpoints: 16, cpus: 4 } }),
    undefined,
    hooks(),
  );
  assert.ok(big.columns[0].exhaustive.error, 'a state space beyond the budget is explained');
});

test('merged latency: counts and mean exact, percentiles from the rebuilt histogram', () => {
  const part = {
    unit: 'lookup' as const,
    samples: 100,
    delayed: 10,
    delayedRate: 0.1,
    delayedCi: [0, 1] as [number, number],
    failed: 1,
    meanS: 0.55,
    p50S: 0,
    p99S: 10,
  };
  const m = mergeLatency([part, { ...part, failed: 0, meanS: 0.5 }], 5, 2);
  assert.equal(m.samples, 200);
  assert.equal(m.delayed, 20);
  assert.equal(m.failed, 1);
  assert.ok(Math.abs(m.meanS - 0.525) < 1e-12);
  assert.equal(m.p50S, 0);
  assert.equal(m.p99S, 5);
});

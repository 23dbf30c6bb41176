// The parallel Monte Carlo: the same answer for a seed whatever the number of threads, and the
// merge adds up what the parts counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { monteCarloParallel } from '../../src/core/model/pool';

const workerPath = path.join(__dirname, '../../src/core/model/mcWorker.js');

test('one thread and two worker threads give the same result for a seed', async () => {
  const one = await monteCarloParallel('dns-vip', 'both', { trials: 40_000, seed: 5, threads: 1, workerPath });
  const two = await monteCarloParallel('dns-vip', 'both', { trials: 40_000, seed: 5, threads: 2, workerPath });
  assert.equal(one.where, 'in-process');
  assert.equal(two.where, 'workers');
  assert.equal(two.threads, 2);
  for (const k of ['races', 'packets', 'dropped', 'clashes', 'merged', 'racedRounds', 'twoBackends'] as const)
    assert.equal(two[k], one[k], k);
  assert.deepEqual(two.counters, one.counters);
  assert.deepEqual(two.latency, one.latency);
  assert.ok(one.dropped > 0);
  assert.equal(one.trials, 40_000);
  assert.equal(one.latency.samples, 40_000);
});

test('a missing worker script runs the same parts in this thread and says so', async () => {
  const r = await monteCarloParallel('dns-snat', 'none', { trials: 5_000, seed: 2, threads: 2, workerPath: '/nonexistent/mcWorker.js' });
  assert.equal(r.where, 'in-process');
  assert.match(r.reason ?? '', /no worker script/);
  const w = await monteCarloParallel('dns-snat', 'none', { trials: 5_000, seed: 2, threads: 2, workerPath });
  assert.equal(w.dropped, r.dropped);
});

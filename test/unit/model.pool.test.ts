// The parallel Monte Carlo: the same answer for a seed whatever the number of threads, and the
// merge adds up what the parts counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { closeMcPools, monteCarloParallel, partSeed, PoolCancelled, runPart } from '../../src/core/model/pool';
import { monteCarloBuilt } from '../../src/core/model/montecarlo';
import { buildScenario, getScenario } from '../../src/core/model/scenarios';
import { stepLookup } from '../../src/core/model/steps';
import { Rng, RngChooser } from '../../src/core/model/rng';
import { O_FOUND } from '../../src/core/model/packet';

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

test('a part run on a restored baseline equals the part run on a fresh build', () => {
  // tcp-masquerade holds 32k ports: the case the restore exists for. Parts interleave on one thread.
  const req = (seed: number, buildSeed: number) =>
    ({ scenario: 'tcp-masquerade', variant: 'none', trials: 3_000, seed, buildSeed, overrides: {} }) as const;
  const a1 = runPart(req(11, 1));
  runPart(req(12, 1));
  runPart(req(13, 2));
  const a2 = runPart(req(11, 1));
  assert.ok(a1.dropped > 0);
  assert.deepEqual(a2, { ...a1, ms: a2.ms, trialsPerSec: a2.trialsPerSec });
  const fresh = monteCarloBuilt(buildScenario(getScenario('tcp-masquerade'), 'none', {}, 1), { trials: 3_000, seed: 11 });
  assert.deepEqual(fresh, { ...a1, ms: fresh.ms, trialsPerSec: fresh.trialsPerSec });
});

test('a baseline entry changed by a part is seen: restore refuses and the next part builds afresh', () => {
  const b = buildScenario(getScenario('tcp-masquerade'), 'none', {}, 1);
  const snap = b.state.snapshot();
  assert.equal(b.state.restore(snap), true);
  assert.equal(b.state.restore(snap, true), true);
  // A change behind the steps' back: only the field-by-field comparison sees it.
  b.state.entries[5].tcp = 0;
  assert.equal(b.state.restore(snap, true), false);
  b.state.entries[5].tcp = snap.fields[5 * 13 + 7];
  const id = b.state.alloc();
  assert.equal(b.state.restore(snap), false, 'a live entry allocated after the snapshot');
  b.state.release(id);
  assert.equal(b.state.restore(snap), true);
  // A step that finds a baseline entry writes to it (lastSeen): the quick check refuses.
  const p = b.packets[0];
  p.reset();
  p.orig = b.state.entries[5].orig;
  stepLookup(b.state, p, { ch: new RngChooser(new Rng(1)), trace: null, addrs: b.addrs });
  assert.equal(p.outcome, O_FOUND);
  assert.equal(b.state.restore(snap), false);
  // Freeing a baseline entry (what early drop and expiry do) too.
  const c = buildScenario(getScenario('tcp-masquerade'), 'none', {}, 1);
  const snapC = c.state.snapshot();
  c.state.release(7);
  assert.equal(c.state.restore(snapC), false);
  assert.equal(c.state.restore(snapC, true), false);
});

test('the quick restore check never accepts what the full comparison refuses, and a rebuild into a used state equals a fresh build', () => {
  const cases = [
    ['tcp-masquerade', 'none'],
    ['tcp-masquerade-random-fully', 'both'],
    ['dns-vip', 'both'],
    ['udp-port-race', 'none'],
    ['table-overflow', 'none'],
    ['table-overflow', 'rework2020'],
    ['udp-reverse', 'ed07d9a'],
  ] as const;
  let refused = 0;
  for (const [s, v] of cases) {
    const b = buildScenario(getScenario(s), v, {}, 3);
    const snap = b.state.snapshot();
    for (let k = 0; k < 6; k++) {
      monteCarloBuilt(b, { trials: 500, seed: 20 + k });
      const quick = !b.state.baseDirty;
      if (quick) assert.equal(b.state.restore(snap, true), true, `${s}/${v}: quick check accepted a changed baseline`);
      else {
        refused++;
        break;
      }
    }
    // Build seed 4 into the used state, and compare with a fresh build of seed 4.
    const used = buildScenario(getScenario(s), v, {}, 4, b.state);
    const fresh = buildScenario(getScenario(s), v, {}, 4);
    assert.equal(used.state, b.state, 'same shape: built in place');
    assert.equal(used.state.fingerprint(), fresh.state.fingerprint(), `${s}/${v}`);
    assert.equal(used.baselineEntries, fresh.baselineEntries);
    const r1 = monteCarloBuilt(used, { trials: 2_000, seed: 9 });
    const r2 = monteCarloBuilt(fresh, { trials: 2_000, seed: 9 });
    assert.deepEqual({ ...r1, ms: 0, trialsPerSec: 0 }, { ...r2, ms: 0, trialsPerSec: 0 }, `${s}/${v}`);
  }
  assert.ok(refused >= 1, 'table overflow evicts baseline entries: at least one case is refused');
});

test('workers only (mainThread off) run every part, stay up for the next job, and a cancel stops a run', async () => {
  const w = await monteCarloParallel('dns-snat', 'none', { trials: 20_000, seed: 4, threads: 2, mainThread: false, workerPath });
  const here = await monteCarloParallel('dns-snat', 'none', { trials: 20_000, seed: 4, threads: 1 });
  assert.equal(w.workerParts, 16);
  assert.equal(w.dropped, here.dropped);
  assert.deepEqual(w.counters, here.counters);
  const again = await monteCarloParallel('dns-snat', 'none', { trials: 20_000, seed: 4, threads: 2, mainThread: false, workerPath });
  assert.equal(again.dropped, w.dropped);
  const signal = { cancelled: false };
  const run = monteCarloParallel('dns-vip', 'none', {
    trials: 5_000_000,
    seed: 4,
    threads: 2,
    workerPath,
    signal,
    onProgress: () => (signal.cancelled = true),
  });
  await assert.rejects(run, PoolCancelled);
  await closeMcPools();
});

test('parts whose trials evict baseline entries (early drop) still equal fresh builds, part by part', async () => {
  const overrides = { max: 20, prefill: { assuredTcp: 0, udp: 20, timeWait: 0, idleTcp: 0 } };
  const r = await monteCarloParallel('dns-snat', 'none', { trials: 4_000, seed: 6, threads: 1, parts: 4, overrides });
  assert.ok(r.counters.early_drop > 0, 'early drop evicted prefilled entries');
  let dropped = 0,
    earlyDrop = 0;
  for (let i = 0; i < 4; i++) {
    const f = monteCarloBuilt(buildScenario(getScenario('dns-snat'), 'none', overrides, 6), { trials: 1_000, seed: partSeed(6, i) });
    dropped += f.dropped;
    earlyDrop += f.counters.early_drop;
  }
  assert.equal(r.dropped, dropped);
  assert.equal(r.counters.early_drop, earlyDrop);
});

// The panel's runs off the extension host's thread: the worker protocol (run -> progress* ->
// result | error), cancel by terminating the worker, and the in-process fallback when no worker
// script is there. Spawns the tsc-compiled worker next to this test in out/ (the same source
// esbuild bundles to dist/simWorker.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { RunCancelled, runSimulation } from '../../src/simulation/run';
import { startRun } from '../../src/simulation/runner';
import { defaultRequest } from '../../src/simulation/shape';
import type { RunRequest, WorkerRun, WorkerToHost } from '../../src/simulation/protocol';

const WORKER = path.join(__dirname, '../../src/simulation/simWorker.js');
const req = (over: Partial<RunRequest> = {}): RunRequest => ({
  ...defaultRequest('dns-snat'),
  variants: { mode: 'manual', before: 'none', after: 'both' },
  trials: 20_000,
  sweep: 'none',
  ...over,
});
/** Timings differ between runs; everything else must not. */
const stable = (r: Awaited<ReturnType<typeof runSimulation>>) =>
  JSON.parse(JSON.stringify(r, (k, v) => (k === 'ms' || k === 'trialsPerSec' ? 0 : v)));

test('protocol: a run message gets progress messages and one result for that run id', async () => {
  const w = new Worker(WORKER);
  try {
    const seen: WorkerToHost[] = [];
    const done = new Promise<WorkerToHost>((resolve) =>
      w.on('message', (m: WorkerToHost) => {
        seen.push(m);
        if (m.type !== 'progress') resolve(m);
      }),
    );
    const msg: WorkerRun = { type: 'run', runId: 42, request: req() };
    w.postMessage(msg);
    const last = await done;
    assert.equal(last.type, 'result');
    assert.ok(seen.every((m) => m.runId === 42));
    const progress = seen.filter((m): m is Extract<WorkerToHost, { type: 'progress' }> => m.type === 'progress');
    assert.ok(progress.length >= 1);
    assert.equal(progress[0].done, 0, 'starts at zero');
    assert.ok(
      progress.every((p, i) => i === 0 || p.done >= progress[i - 1].done),
      'monotonic',
    );
    assert.ok(progress.every((p) => p.total === progress[0].total && p.phase.length > 0));
  } finally {
    await w.terminate();
  }
});

test('protocol: a bad request comes back as an error message, not a dead worker', async () => {
  const w = new Worker(WORKER);
  try {
    const reply = new Promise<WorkerToHost>((resolve) =>
      w.on('message', (m: WorkerToHost) => {
        if (m.type !== 'progress') resolve(m);
      }),
    );
    w.postMessage({ type: 'run', runId: 7, request: { ...req(), scenario: 'no-such-scenario' } } satisfies WorkerRun);
    const m = await reply;
    assert.equal(m.type, 'error');
    assert.match(m.type === 'error' ? m.message : '', /unknown scenario/);
  } finally {
    await w.terminate();
  }
});

test('the worker gives the same answer as the in-process run for a seed', async () => {
  const r = req({ scenario: 'dns-vip', knobs: defaultRequest('dns-vip').knobs, seed: 5 });
  const h = startRun(1, r, undefined, { workerPath: WORKER });
  assert.equal(h.where, 'worker');
  const viaWorker = await h.result;
  const local = await runSimulation(1, r, undefined, { signal: { cancelled: false } });
  assert.deepEqual(stable(viaWorker), stable(local));
});

test('overflow runs go through the worker too', async () => {
  const d = defaultRequest('table-overflow');
  const h = startRun(
    2,
    {
      ...d,
      variants: { mode: 'manual', before: 'none', after: 'both' },
      trials: 1000,
      sweep: 'none',
      overflow: { ...d.overflow!, durationS: 60 },
    },
    undefined,
    { workerPath: WORKER },
  );
  const r = await h.result;
  assert.equal(r.comparison, 'whatif');
  assert.ok(r.columns[0].overflow!.flows > 0);
});

test('cancel terminates the worker at once, mid-run', async () => {
  const phases: string[] = [];
  const t0 = Date.now();
  const h = startRun(3, req({ trials: 5_000_000, sweep: 'packets' }), undefined, {
    workerPath: WORKER,
    onProgress: (done, _total, phase) => {
      phases.push(phase);
      if (done > 0) h.cancel();
    },
  });
  await assert.rejects(h.result, RunCancelled);
  assert.ok(phases.length > 0, 'progress arrived before the cancel');
  assert.ok(Date.now() - t0 < 20_000, 'did not run 5M trials to the end');
  h.cancel(); // a second cancel is harmless
});

test('no worker script: the same run in process, and it says why', async () => {
  const h = startRun(4, req({ trials: 2000 }), undefined, { workerPath: path.join(__dirname, 'missing-simWorker.js') });
  assert.equal(h.where, 'in-process');
  assert.match(h.fallbackReason ?? '', /no worker at/);
  const r = await h.result;
  assert.equal(r.runId, 4);
  assert.equal(startRun(5, req({ trials: 1000 }), undefined, {}).where, 'in-process');
});

test('a worker script that dies on load falls back to the in-process run', async () => {
  // Any file that throws at load stands in for a broken bundle.
  const broken = path.join(__dirname, 'helpers', 'broken-worker.js');
  const fs = await import('node:fs');
  fs.mkdirSync(path.dirname(broken), { recursive: true });
  fs.writeFileSync(broken, 'throw new Error("broken bundle");\n');
  const h = startRun(6, req({ trials: 2000 }), undefined, { workerPath: broken });
  const r = await h.result;
  assert.equal(r.runId, 6);
  assert.equal(h.where, 'in-process');
  assert.match(h.fallbackReason ?? '', /broken bundle/);
});

test('the esbuild bundle, when built, speaks the same protocol', async (t) => {
  const bundle = path.join(__dirname, '../../../dist/simWorker.js');
  if (!(await import('node:fs')).existsSync(bundle)) {
    t.skip('dist/simWorker.js not built');
    return;
  }
  const h = startRun(8, req({ trials: 2000 }), undefined, { workerPath: bundle });
  assert.equal(h.where, 'worker');
  const r = await h.result;
  assert.equal(r.columns[1].mc.dropped, 0);
});

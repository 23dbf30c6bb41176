// The sweep's detection pool: worker threads give exactly what detection in this thread gives,
// a missing worker script or a worker that dies falls back to this thread, and no worker
// outlives its sweep (finished, cancelled in the middle of detection, or failed).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectBuffer } from '../../src/core/detect';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { buildKernelRepo, KernelRepo } from '../../src/core/fixtures/repo';
import { Matrix, sweep, SweepCancelled } from '../../src/core/matrix';
import { DetectPool, liveDetectWorkers } from '../../src/core/matrix/detectPool';
import type { DetectionResult } from '../../src/core/types';

let tmp: string;
let repo: KernelRepo;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-pool-'));
  repo = await buildKernelRepo(path.join(tmp, 'linux'), { scale: 0.3, seed: 11, nat: true });
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const samples = (): { content: Buffer; file: string }[] =>
  (['4.9', '4.19', '5.4', '5.10', '6.13'] as const).flatMap((era, i) => [
    {
      content: Buffer.from(generateConntrackCore({ era, seed: 100 + i, race1: 'none', fullSize: false }).text),
      file: `a${i}/nf_conntrack_core.c`,
    },
    {
      content: Buffer.from(generateConntrackCore({ era, seed: 200 + i, race1: 'upstream', fullSize: false }).text),
      file: `b${i}/nf_conntrack_core.c`,
    },
  ]);

/** A detection without how long it took (the only part that differs between runs). */
const untimed = (r: DetectionResult): DetectionResult => ({ ...r, timingMs: undefined });

async function waitNoWorkers(): Promise<void> {
  for (let i = 0; i < 100 && liveDetectWorkers() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(liveDetectWorkers(), 0, 'a detection worker outlived its pool');
}

describe('detection pool', () => {
  test('workers answer exactly what detection in this thread answers, for every blob', async () => {
    const xs = samples();
    const pool = new DetectPool({ threads: 2 });
    try {
      assert.equal(pool.where, 'workers');
      assert.equal(pool.threads, 2);
      const viaWorkers = await Promise.all(xs.map((x) => pool.detect(x.content, x.file)));
      for (let i = 0; i < xs.length; i++)
        assert.deepEqual(untimed(viaWorkers[i]), untimed(await detectBuffer(xs[i].content, xs[i].file)), xs[i].file);
      // Different contents really are told apart (the comparison above could not pass on a constant).
      assert.notDeepEqual(viaWorkers[0].races.race1.verdict, viaWorkers[1].races.race1.verdict);
    } finally {
      pool.close();
    }
    await waitNoWorkers();
  });

  test('without a worker script, or with one thread, detection runs here with the same answers', async () => {
    const xs = samples().slice(0, 3);
    for (const pool of [new DetectPool({ threads: 2, workerPath: path.join(tmp, 'absent.js') }), new DetectPool({ threads: 1 })]) {
      assert.equal(pool.where, 'in-process');
      const got = await Promise.all(xs.map((x) => pool.detect(x.content, x.file)));
      for (let i = 0; i < xs.length; i++) assert.deepEqual(untimed(got[i]), untimed(await detectBuffer(xs[i].content, xs[i].file)));
      pool.close();
    }
    assert.equal(liveDetectWorkers(), 0);
  });

  test('a worker that dies on its first blob: its blobs are detected here instead, nothing is lost', async () => {
    const dying = path.join(tmp, 'dying.js');
    fs.writeFileSync(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
    const xs = samples();
    const pool = new DetectPool({ threads: 2, workerPath: dying });
    try {
      assert.equal(pool.where, 'workers');
      const got = await Promise.all(xs.map((x) => pool.detect(x.content, x.file)));
      for (let i = 0; i < xs.length; i++) assert.deepEqual(untimed(got[i]), untimed(await detectBuffer(xs[i].content, xs[i].file)));
    } finally {
      pool.close();
    }
    await waitNoWorkers();
  });

  test('a closed pool refuses new blobs and rejects those still waiting', async () => {
    const pool = new DetectPool({ threads: 2 });
    const xs = samples();
    const waiting = xs.map((x) => pool.detect(x.content, x.file));
    pool.close();
    const settled = await Promise.allSettled(waiting);
    assert.ok(settled.some((s) => s.status === 'rejected'));
    await assert.rejects(pool.detect(xs[0].content, xs[0].file), /closed/);
    await waitNoWorkers();
  });
});

describe('sweep with the pool', () => {
  const answer = (m: Matrix): unknown =>
    JSON.parse(JSON.stringify({ rows: m.rows, lines: m.lines, entered: m.entered, lost: m.lost, restored: m.restored }));

  test('detection in workers and in this thread give the same matrix; no worker outlives the sweep', async () => {
    const inThread = await sweep(repo.dir, { refs: ['all'], detectThreads: 0 });
    const inWorkers = await sweep(repo.dir, { refs: ['all'], detectThreads: 2 });
    assert.ok((inThread.stats.detectedNow ?? 0) > 8, `only ${inThread.stats.detectedNow} blobs: the pool was not exercised`);
    assert.deepEqual(answer(inWorkers), answer(inThread));
    await waitNoWorkers();
  });

  test('cancel in the middle of detection: SweepCancelled and the workers are stopped', async () => {
    const ac = new AbortController();
    await assert.rejects(
      sweep(repo.dir, {
        refs: ['all'],
        detectThreads: 2,
        signal: ac.signal,
        onProgress: (p) => p.phase === 'detect' && p.done > 0 && ac.abort(),
      }),
      (e: unknown) => e instanceof SweepCancelled || (e as Error).name === 'AbortError',
    );
    await waitNoWorkers();
  });
});

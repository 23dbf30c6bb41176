// Worker thread of the parallel Monte Carlo (pool.ts): for each job, claims part indexes from the
// job's shared counter until none is left, runs each part and posts its McResult. Long-lived: the
// pool sends it one job after another. Bundled to dist/mcWorker.js for the CLI; compiled beside
// pool.js for tests and benches.
import { parentPort } from 'node:worker_threads';
import { runPart, type JobMessage, type PartMessage } from './pool';

if (parentPort) {
  const port = parentPort;
  port.on('message', (m: JobMessage) => {
    if (m?.type !== 'job') return;
    const ctl = new Int32Array(m.ctl);
    for (;;) {
      const i = Atomics.add(ctl, 0, 1);
      if (i >= m.reqs.length) break;
      Atomics.store(ctl, i + 1, m.slot);
      const r = m.reqs[i];
      let msg: PartMessage;
      try {
        msg = {
          type: 'part',
          job: m.job,
          index: i,
          result: runPart(r),
        };
      } catch (e) {
        port.postMessage({ type: 'error', job: m.job, index: i, error: String((e as Error)?.message ?? e) } satisfies PartMessage);
        break;
      }
      port.postMessage(msg);
    }
  });
}

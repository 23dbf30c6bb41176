// Worker entry (bundled to dist/simWorker.js): runs one panel request off the extension host's
// thread, so a long exhaustive enumeration or Monte Carlo never stalls the editor. The host
// terminates the worker to cancel; this side only runs and reports (protocol.ts: WorkerRun,
// WorkerToHost).

import { parentPort } from 'node:worker_threads';
import type { WorkerRun, WorkerToHost } from './protocol';
import { runSimulation } from './run';

/** Chunks post progress far more often than anyone reads it; the host throttles again. */
const PROGRESS_EVERY_MS = 50;

if (parentPort) {
  const port = parentPort;
  const post = (m: WorkerToHost) => port.postMessage(m);
  port.on('message', (m: WorkerRun) => {
    if (m?.type !== 'run') return;
    let last = 0;
    runSimulation(m.runId, m.request, m.detection, {
      signal: { cancelled: false },
      onProgress: (done, total, phase) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS && done < total) return;
        last = now;
        post({ type: 'progress', runId: m.runId, done, total, phase });
      },
    }).then(
      (result) => post({ type: 'result', runId: m.runId, result }),
      (err) => post({ type: 'error', runId: m.runId, message: String((err as Error)?.message ?? err) }),
    );
  });
}

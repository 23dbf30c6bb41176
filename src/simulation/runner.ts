// Where a panel run executes: in a worker thread when its bundle is there (the extension
// host stays responsive, and cancel is immediate: the worker is terminated), otherwise in
// process in chunks (run.ts), which is slower to cancel but always available. No vscode import.

import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DetectionSummary, PanelResult, RunRequest, WorkerRun, WorkerToHost } from './protocol';
import { RunCancelled, runSimulation } from './run';

export type RunOutput = Omit<PanelResult, 'sources'>;

export interface RunHandle {
  result: Promise<RunOutput>;
  /** Stops the run; `result` then rejects with RunCancelled. */
  cancel(): void;
  /** 'worker', or 'in-process' when no worker could be used (reason in fallbackReason). */
  readonly where: 'worker' | 'in-process';
  readonly fallbackReason?: string;
}

export interface StartOptions {
  /** The worker script (dist/simWorker.js); missing or unset: in process. */
  workerPath?: string;
  onProgress?: (done: number, total: number, phase: string) => void;
}

export function startRun(runId: number, request: RunRequest, detection: DetectionSummary | undefined, opts: StartOptions): RunHandle {
  if (!opts.workerPath || !existsSync(opts.workerPath))
    return inProcess(runId, request, detection, opts, opts.workerPath ? `no worker at ${opts.workerPath}` : 'no worker path');
  let worker: Worker;
  try {
    worker = new Worker(opts.workerPath);
  } catch (err) {
    return inProcess(runId, request, detection, opts, `worker failed to start: ${(err as Error)?.message ?? err}`);
  }
  return inWorker(worker, runId, request, detection, opts);
}

function inProcess(
  runId: number,
  request: RunRequest,
  detection: DetectionSummary | undefined,
  opts: StartOptions,
  reason: string,
): RunHandle {
  const signal = { cancelled: false };
  return {
    result: runSimulation(runId, request, detection, { signal, onProgress: opts.onProgress }),
    cancel: () => {
      signal.cancelled = true;
    },
    where: 'in-process',
    fallbackReason: reason,
  };
}

function inWorker(
  worker: Worker,
  runId: number,
  request: RunRequest,
  detection: DetectionSummary | undefined,
  opts: StartOptions,
): RunHandle {
  let settled = false;
  let heard = false;
  let cancelled = false;
  let fallback: RunHandle | undefined;
  const handle: { -readonly [K in keyof RunHandle]: RunHandle[K] } = { where: 'worker', result: undefined!, cancel: () => {} };
  handle.result = new Promise<RunOutput>((resolve, reject) => {
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.on('message', (m: WorkerToHost) => {
      heard = true;
      if (m?.runId !== runId) return;
      if (m.type === 'progress') opts.onProgress?.(m.done, m.total, m.phase);
      else if (m.type === 'result') finish(() => resolve(m.result));
      else if (m.type === 'error') finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (err) => {
      // A worker that dies before saying anything (a broken bundle, no worker support) is
      // replaced by the in-process run; one that fails mid-run reports its error.
      if (settled) return;
      if (!heard && !cancelled) {
        settled = true;
        fallback = inProcess(runId, request, detection, opts, `worker failed: ${err.message}`);
        handle.where = 'in-process';
        handle.fallbackReason = fallback.fallbackReason;
        fallback.result.then(resolve, reject);
        return;
      }
      finish(() => reject(err));
    });
    worker.on('exit', (code) =>
      finish(() => reject(cancelled ? new RunCancelled() : new Error(`simulation worker exited (code ${code}) before a result`))),
    );
    handle.cancel = () => {
      if (fallback) {
        fallback.cancel();
        return;
      }
      cancelled = true;
      finish(() => reject(new RunCancelled()));
    };
    const msg: WorkerRun = { type: 'run', runId, request, detection };
    worker.postMessage(msg);
  });
  return handle;
}

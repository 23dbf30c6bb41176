// Detection of a sweep's distinct blobs on every core: worker threads (detectWorker.js beside
// this file or the bundle) each detect one blob at a time, fed from one queue in the order the
// blobs are read. The result of a blob does not depend on which thread detected it (detection
// is a pure function of the bytes and the file name). Without a worker script, with one core,
// or when a worker dies, its blobs are detected in this thread instead.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { detectBuffer } from '../detect';
import { getParser } from '../parse/treesitter';
import type { DetectionResult } from '../types';
import type { DetectJob } from './detectWorker';

/** Workers at most (detection of a few hundred blobs does not gain from more). */
const MAX_WORKERS = 4;

interface Job {
  id: number;
  content: Uint8Array;
  file: string;
  resolve: (r: DetectionResult) => void;
  reject: (e: Error) => void;
}

interface Lane {
  worker: Worker;
  busy: Job | null;
}

let live = 0;
/** Worker threads of all pools that have started and not yet stopped (tests check none outlive a sweep). */
export const liveDetectWorkers = (): number => live;

export function defaultDetectWorkerPath(): string {
  return path.join(__dirname, 'detectWorker.js');
}

export interface DetectPoolOptions {
  /** Worker threads (default: one per core, at most 4). 0: detect in this thread. */
  threads?: number;
  workerPath?: string;
}

export class DetectPool {
  /** 'workers' when at least one worker thread was started. */
  readonly where: 'workers' | 'in-process';
  readonly threads: number;
  private readonly lanes: Lane[] = [];
  private readonly queue: Job[] = [];
  private next = 0;
  private closed = false;
  private local: Promise<void> = Promise.resolve();

  constructor(opts: DetectPoolOptions = {}) {
    const wp = opts.workerPath ?? defaultDetectWorkerPath();
    const n = Math.max(0, Math.min(opts.threads ?? availableParallelism(), MAX_WORKERS));
    const usable = n > 1 && existsSync(wp);
    for (let i = 0; usable && i < n; i++) {
      const lane: Lane = { worker: new Worker(wp), busy: null };
      live++;
      lane.worker.once('exit', () => live--);
      lane.worker.on('message', (m: { id: number; ok: boolean; result?: DetectionResult; error?: string }) => this.onMessage(lane, m));
      lane.worker.on('error', () => this.onDead(lane));
      lane.worker.on('exit', () => this.onDead(lane));
      this.lanes.push(lane);
    }
    this.where = this.lanes.length ? 'workers' : 'in-process';
    this.threads = Math.max(1, this.lanes.length);
    // In-process detection compiles its parser now, while the caller is still reading blobs.
    if (!this.lanes.length) void getParser().catch(() => undefined);
  }

  /** Detects one blob (copied to the worker; the caller's buffer stays usable). */
  detect(content: Uint8Array, file: string): Promise<DetectionResult> {
    if (this.closed) return Promise.reject(new Error('detection pool closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.next++, content, file, resolve, reject });
      this.pump();
    });
  }

  /** Stops the workers; detections not yet answered are rejected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('detection pool closed');
    for (const j of this.queue.splice(0)) j.reject(err);
    for (const lane of this.lanes.splice(0)) {
      lane.busy?.reject(err);
      lane.busy = null;
      void lane.worker.terminate();
    }
  }

  private pump(): void {
    if (this.closed) return;
    if (!this.lanes.length) {
      // No worker left: one at a time in this thread, in order.
      while (this.queue.length) {
        const j = this.queue.shift()!;
        this.local = this.local.then(() => detectBuffer(j.content, j.file).then(j.resolve, j.reject));
      }
      return;
    }
    for (const lane of this.lanes) {
      if (lane.busy || !this.queue.length) continue;
      const j = this.queue.shift()!;
      lane.busy = j;
      lane.worker.postMessage({ id: j.id, content: j.content, file: j.file } satisfies DetectJob);
    }
  }

  private onMessage(lane: Lane, m: { id: number; ok: boolean; result?: DetectionResult; error?: string }): void {
    const j = lane.busy;
    if (!j || j.id !== m.id) return;
    lane.busy = null;
    if (m.ok) j.resolve(m.result!);
    else j.reject(new Error(m.error ?? 'detection failed'));
    this.pump();
  }

  /** A worker that failed or exited: its blob goes back to the queue, the others carry on. */
  private onDead(lane: Lane): void {
    const i = this.lanes.indexOf(lane);
    if (i < 0) return;
    this.lanes.splice(i, 1);
    if (lane.busy) this.queue.unshift(lane.busy);
    lane.busy = null;
    void lane.worker.terminate();
    this.pump();
  }
}

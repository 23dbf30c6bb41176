// Worker thread of the sweep's detection pool (detectPool.ts): detects one blob per message and
// posts the DetectionResult back. Bundled to dist/detectWorker.js beside the extension and CLI
// bundles; compiled beside detectPool.js for tests and benches.
import { parentPort } from 'node:worker_threads';
import { detectBuffer } from '../detect';
import { getParser } from '../parse/treesitter';

export interface DetectJob {
  id: number;
  content: Uint8Array;
  file: string;
}

if (parentPort) {
  const port = parentPort;
  // The wasm compiles as soon as the worker starts, while the sweep is still resolving blobs.
  void getParser().catch(() => undefined);
  port.on('message', (m: DetectJob) => {
    detectBuffer(m.content, m.file).then(
      (result) => port.postMessage({ id: m.id, ok: true, result }),
      (e: unknown) => port.postMessage({ id: m.id, ok: false, error: String((e as Error)?.message ?? e) }),
    );
  });
}

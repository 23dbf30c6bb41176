// Worker thread of the parallel Monte Carlo (pool.ts): runs one part and posts its McResult.
// Bundled to dist/mcWorker.js for the CLI; compiled beside pool.js for tests and benches.
import { parentPort } from 'node:worker_threads';
import { monteCarloScenario } from './montecarlo';
import type { PartRequest } from './pool';

if (parentPort) {
  const port = parentPort;
  port.on('message', (m: PartRequest) => {
    try {
      port.postMessage({
        ok: true,
        result: monteCarloScenario(m.scenario, m.variant, { trials: m.trials, seed: m.seed, overrides: m.overrides }),
      });
    } catch (e) {
      port.postMessage({ ok: false, error: String((e as Error)?.message ?? e) });
    }
  });
}

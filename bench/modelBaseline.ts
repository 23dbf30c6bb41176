// The baseline of bench:model: today's single-thread Monte Carlo engine as it was before the
// typed-halves / in-order rewrite, rebuilt from git (commit BASELINE_COMMIT's src/core/model,
// read through the git port) into a temp dir and bundled with esbuild, so every bench run
// measures the old engine and the new one side by side on the same machine load.

import { build } from 'esbuild';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gitText } from '../src/core/git/run';
import type { McOptions, McResult } from '../src/core/model/montecarlo';
import type { ModelVariantId } from '../src/core/model/variants';

/** Last main commit before the faster engine (src/core/model as it was). */
export const BASELINE_COMMIT = '1e2e0e6a609c0afb4c351609b0fa192ecc4636b2';

export type McFn = (scenario: string, variant: ModelVariantId, opts: McOptions) => McResult;

/** Loads the baseline engine, or says in one line why it cannot (e.g. a shallow clone without that commit). */
export async function loadBaseline(repo: string): Promise<{ mc: McFn } | { reason: string }> {
  const dir = path.join(tmpdir(), `conntrack-model-baseline-${BASELINE_COMMIT.slice(0, 12)}`);
  const out = path.join(dir, 'baseline.js');
  try {
    if (!existsSync(out)) {
      const files = (await gitText(repo, ['ls-tree', '-r', '--name-only', BASELINE_COMMIT, 'src/core/model/']))
        .split('\n')
        .filter((f) => f.endsWith('.ts'));
      for (const f of files) {
        const dst = path.join(dir, f);
        mkdirSync(path.dirname(dst), { recursive: true });
        writeFileSync(dst, await gitText(repo, ['show', `${BASELINE_COMMIT}:${f}`]));
      }
      await build({
        entryPoints: [path.join(dir, 'src/core/model/montecarlo.ts')],
        outfile: out,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        logLevel: 'silent',
      });
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require(out) as { monteCarloScenario: McFn };
    return { mc: m.monteCarloScenario };
  } catch (e) {
    return {
      reason: `baseline engine of ${BASELINE_COMMIT.slice(0, 12)} not available: ${String((e as Error).message ?? e).split('\n')[0]}`,
    };
  }
}

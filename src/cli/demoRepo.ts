// `demo-repo`: a bionic-like demo kernel repository and its "upstream" remote, from the
// project's fixture generator.

import * as path from 'node:path';
import type { RepoScenario } from '../core/fixtures/demoRepo';
import { Command, flag, str, UsageError } from './command';

const SCENARIOS = ['azure', 'none', 'race1', 'race2', 'upstream'];

export const demoRepo: Command = {
  name: 'demo-repo',
  summary: 'Build a bionic-like demo kernel repository and its "upstream" remote in <dir>.',
  synopsis: ['[--scenario azure|none|race1|race2|upstream] [--conflict] [--json] <dir>'],
  options: {
    scenario: { type: 'string', value: 'NAME', help: `what the tree carries: ${SCENARIOS.join(', ')} (default azure)` },
    conflict: { type: 'boolean', help: 'add a local change that makes the cherry-pick conflict' },
    json: { type: 'boolean', help: 'paths and commit ids as JSON' },
  },
  positionals: { min: 1, max: 1, names: 'a directory' },
  async run(a, io) {
    const { createDemoRepos } = await import('../core/fixtures/demoRepo');
    const scenario = (str(a, 'scenario') ?? 'azure') as RepoScenario;
    if (!SCENARIOS.includes(scenario)) throw new UsageError(`unknown scenario ${scenario} (one of ${SCENARIOS.join(', ')})`);
    const r = await createDemoRepos({
      dir: path.resolve(a.positionals[0]),
      scenario,
      conflict: flag(a, 'conflict'),
      lines: true,
      recordOverrides: true,
    });
    // The tree's git config records the upstream ids (conntrack-backport.<id>.commit), so no --commit is needed.
    const cmd = `node dist/cli.js backport --plan ${r.tree} --remote ${r.remote} --bug 1836816`;
    if (flag(a, 'json')) io.out(JSON.stringify({ ...r, baseCore: undefined, fixedCore: undefined, planCommand: cmd }, null, 2));
    else
      io.out(
        `demo kernel tree: ${r.tree}\nupstream remote '${r.remote}': ${r.upstream}\nupstream commits (git-made ids, recorded in the tree's git config for backport):\n  ed07d9a021df -> ${r.upstreamShas.ed07d9a021df}\n  4e35c1cb9460 -> ${r.upstreamShas['4e35c1cb9460']}\ntry:\n  ${cmd}`,
      );
    return 0;
  },
};

// The one place that creates the kernel-shaped workspace the editor tests (and the bench)
// open: an absolute folder containing net/netfilter/nf_conntrack_core.c, optionally a git repo.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORE_FILE = 'net/netfilter/nf_conntrack_core.c';

const require = createRequire(import.meta.url);
const generator = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../out/src/core/fixtures/generate.js');

/** nf_conntrack_core.c from the project's fixture generator (compiled by npm run compile-tests). */
function coreSource(spec) {
  if (!existsSync(generator)) throw new Error(`${generator} missing: run npm run compile-tests`);
  return require(generator).generateConntrackCore({ fullSize: false, ...spec }).text;
}

/** Creates a fresh workspace; with git: true it is a repository with one commit. */
// spec: a FixtureSpec (src/core/fixtures/generate.ts); the default is 4.15 without the fixes.
export function makeKernelWorkspace({ git = false, prefix = 'cb-ws-', spec = { era: '4.15' } } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, CORE_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, coreSource(spec));
  writeFileSync(path.join(dir, 'Makefile'), 'VERSION = 4\nPATCHLEVEL = 15\nSUBLEVEL = 0\n');
  if (git) {
    const g = (...a) =>
      execFileSync('git', ['-C', dir, '-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', ...a], { stdio: 'ignore' });
    g('init', '-q', '-b', 'master');
    g('add', '-A');
    g('commit', '-q', '-m', 'Linux 4.15');
  }
  return dir;
}

/**
 * The demo kernel repository users and the UI test see: a bionic-like base with the two
 * pre-upstream azure commits on top, release tags, and an `upstream` remote that holds the two
 * upstream fixes (under ids of its own: pass `overrides` as conntrackBackport.commitOverrides).
 */
export async function makeDemoWorkspace({ dir = mkdtempSync(path.join(os.tmpdir(), 'cb-demo-')) } = {}) {
  const demoModule = path.resolve(path.dirname(generator), 'demoRepo.js');
  if (!existsSync(demoModule)) throw new Error(`${demoModule} missing: run npm run compile-tests`);
  const repo = await require(demoModule).createDemoRepos({ dir, scenario: 'azure' });
  const g = (...a) =>
    execFileSync('git', ['-C', repo.tree, '-c', 'user.name=Demo', '-c', 'user.email=demo@example.invalid', ...a], { stdio: 'ignore' });
  const first = execFileSync('git', ['-C', repo.tree, 'rev-list', '--max-parents=0', 'HEAD'], { encoding: 'utf8' }).trim();
  g('tag', '-a', '-m', 'Ubuntu-azure-4.15.0-1000.1', 'Ubuntu-azure-4.15.0-1000.1', first);
  g('tag', '-a', '-m', 'Ubuntu-azure-4.15.0-1030.31', 'Ubuntu-azure-4.15.0-1030.31', 'HEAD');
  return { folder: repo.tree, root: dir, overrides: repo.upstreamShas, remote: repo.remote };
}

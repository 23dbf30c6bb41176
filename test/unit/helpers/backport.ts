// Shared pieces of the backport tests: demo repositories in a temp folder, a snapshot of
// everything a run must not lose, and the plan options that point at the fixture upstream.

import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareBackport, PrepareOptions } from '../../../src/core/backport';
import { createDemoRepos, DemoRepo, DemoRepoSpec } from '../../../src/core/fixtures/demoRepo';

export const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'cb-backport-test-'));
process.on('exit', () => fs.rmSync(ROOT, { recursive: true, force: true }));

let n = 0;
export function demo(spec: Omit<DemoRepoSpec, 'dir'> = {}): Promise<DemoRepo> {
  return createDemoRepos({ ...spec, dir: path.join(ROOT, `r${++n}`) });
}

export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export const SIGNOFF = { name: 'Sam Submitter', email: 'sam@example.com' };

export function optionsFor(r: DemoRepo, extra: PrepareOptions = {}): PrepareOptions {
  return { remote: r.remote, commits: { ...r.upstreamShas }, bug: 1836816, signoff: SIGNOFF, series: 'Bionic', ...extra };
}

export async function prepare(r: DemoRepo, extra: PrepareOptions = {}): ReturnType<typeof prepareBackport> {
  return prepareBackport(r.tree, optionsFor(r, extra));
}

export interface Snapshot {
  head: string;
  branch: string;
  status: string;
  index: string;
  stash: string;
  refs: string;
  files: string;
}

/** Everything the user could lose: HEAD, branch, index tree, status, stash, refs and the files' bytes. */
export function snapshot(dir: string, opts: { ignoreBackupRefs?: boolean } = {}): Snapshot {
  let branch: string;
  try {
    branch = git(dir, ['symbolic-ref', '-q', 'HEAD']);
  } catch {
    branch = '(detached)';
  }
  const refs = git(dir, ['for-each-ref', '--format=%(refname) %(objectname)'])
    .split('\n')
    .filter((l) => !(opts.ignoreBackupRefs && l.startsWith('refs/conntrack-backport/backup/')))
    .join('\n');
  const listed = git(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean).sort();
  const files = [...new Set(listed)]
    .map(
      (f) =>
        `${f}:${fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'latin1').length + ':' + hash(fs.readFileSync(path.join(dir, f), 'latin1')) : 'missing'}`,
    )
    .join('\n');
  return {
    head: git(dir, ['rev-parse', 'HEAD']),
    branch,
    status: git(dir, ['status', '--porcelain=v1', '--untracked-files=all']),
    // Every stage of every entry, so an unmerged index compares too.
    index: git(dir, ['ls-files', '--stage']),
    stash: git(dir, ['stash', 'list', '--format=%H %s']),
    refs,
    files,
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export const CORE = 'net/netfilter/nf_conntrack_core.c';
export const read = (r: DemoRepo, rel = CORE): string => fs.readFileSync(path.join(r.tree, rel), 'latin1');
export const CLI = path.resolve(__dirname, '../../../../dist/cli.js');

/** The bundled CLI in a real process; SIGKILLed as soon as its stderr matches `killOn`. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  killOn?: RegExp,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (killOn && killOn.test(stderr)) child.kill('SIGKILL');
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** `backport --apply` of the demo repository to the two upstream commits (given or the demo's own). */
export function applyArgs(r: DemoRepo, commits: { ed07d9a021df?: string; '4e35c1cb9460'?: string } = {}, tree = r.tree): string[] {
  return [
    'backport',
    '--apply',
    tree,
    '--remote',
    r.remote,
    '--commit',
    `ed07d9a021df=${commits.ed07d9a021df ?? r.upstreamShas.ed07d9a021df}`,
    '--commit',
    `4e35c1cb9460=${commits['4e35c1cb9460'] ?? r.upstreamShas['4e35c1cb9460']}`,
    '--bug',
    '1836816',
    '--series',
    'Bionic',
    '--signoff',
    'Sam Submitter <sam@example.com>',
  ];
}

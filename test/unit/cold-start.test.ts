// The cold-start path of `detect` (src/cli/launch.ts -> dist/cli-detect.js): it answers like
// the full CLI, runs from a V8 code cache it writes itself, and a file outside any git
// checkout is analysed without starting git. Timings are in bench/detectCold.bench.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectPath, mayBeInGitCheckout } from '../../src/core/detect';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { tmpDir, writeFile } from './helpers';

const DIST = path.resolve(__dirname, '../../../dist');
const text = generateConntrackCore({ era: '6.13', fullSize: false }).text;

test('no .git above a path: no checkout; a .git directory or gitfile above it, or GIT_DIR, may be one', () => {
  const loose = tmpDir('ctb-cold-loose-');
  const deep = path.join(loose, 'a/b/c');
  fs.mkdirSync(deep, { recursive: true });
  assert.equal(mayBeInGitCheckout(deep), false);
  fs.writeFileSync(path.join(loose, 'a', '.git'), 'gitdir: /elsewhere\n');
  assert.equal(mayBeInGitCheckout(deep), true, 'a gitfile (worktree, submodule) counts');
  const repo = tmpDir('ctb-cold-repo-');
  execFileSync('git', ['init', '-q', repo]);
  fs.mkdirSync(path.join(repo, 'net/netfilter'), { recursive: true });
  assert.equal(mayBeInGitCheckout(path.join(repo, 'net/netfilter')), true);
  const saved = process.env.GIT_DIR;
  process.env.GIT_DIR = path.join(repo, '.git');
  try {
    assert.equal(mayBeInGitCheckout(deep.replace('/a/b/c', '')), true, 'GIT_DIR points git elsewhere');
  } finally {
    if (saved === undefined) delete process.env.GIT_DIR;
    else process.env.GIT_DIR = saved;
  }
});

test('a file outside any checkout: history says so, and no git is started (PATH without git)', async () => {
  const dir = tmpDir('ctb-cold-nogit-');
  writeFile(dir, 'nf_conntrack_core.c', text);
  const file = path.join(dir, 'nf_conntrack_core.c');
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const r = await detectPath(file);
    assert.equal(r.kernelFile, true);
    assert.equal(r.history?.available, false);
    assert.equal(r.history?.reason, 'not inside a git checkout: source layer only');
  } finally {
    process.env.PATH = saved;
  }
});

test('dist/cli.js detect: same output as the full CLI bundle; writes its code cache once and reuses it', () => {
  const dir = tmpDir('ctb-cold-cli-');
  writeFile(dir, 'nf_conntrack_core.c', text);
  const file = path.join(dir, 'nf_conntrack_core.c');
  const cache = tmpDir('ctb-cold-cache-');
  const env = { ...process.env, XDG_CACHE_HOME: cache };
  const run = (js: string, args: string[], e: NodeJS.ProcessEnv = env) => {
    const r = spawnSync(process.execPath, [path.join(DIST, js), ...args], { env: e, encoding: 'utf8' });
    // The result without its timings (which differ run to run).
    const json = r.status === 0 ? JSON.stringify({ ...JSON.parse(r.stdout), timingMs: undefined }) : '';
    return { ...r, stdout: json };
  };
  const reference = run('cli-main.js', ['detect', '--json', file]);
  assert.equal(reference.status, 0, reference.stderr);
  const first = run('cli.js', ['detect', '--json', file]);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stdout, reference.stdout);
  const entries = fs.readdirSync(path.join(cache, 'conntrack-backport', 'v8'));
  assert.equal(entries.length, 1, entries.join(' '));
  assert.match(entries[0], /^cli-detect-\d+-\d+-v[\d.]+-\w+\.bin$/);
  const bin = path.join(cache, 'conntrack-backport', 'v8', entries[0]);
  const written = fs.statSync(bin).mtimeMs;
  const second = run('cli.js', ['detect', '--json', file]);
  assert.equal(second.stdout, reference.stdout);
  assert.equal(fs.statSync(bin).mtimeMs, written, 'an accepted cache is not rewritten');
  // Switched off: nothing new is written, the answer is the same.
  const off = tmpDir('ctb-cold-off-');
  const plain = run('cli.js', ['detect', '--json', file], { ...env, XDG_CACHE_HOME: off, CONNTRACK_BACKPORT_CODE_CACHE: '0' });
  assert.equal(plain.stdout, reference.stdout);
  assert.equal(fs.existsSync(path.join(off, 'conntrack-backport')), false);
});

test('dist/cli.js: a flag detect does not know, and other commands, are answered by the full CLI', () => {
  const env = { ...process.env, XDG_CACHE_HOME: tmpDir('ctb-cold-cache2-') };
  const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), 'detect', '--trials', '5', '.'], { env, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option --trials for detect \(it is an option of 'simulate'\)/);
  const v = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), '--version'], { env, encoding: 'utf8' });
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^conntrack-backport \d+\.\d+\.\d+/);
});

// detect and check-patch where kernels live: a bare (or normal) repository at a ref, read with
// git cat-file (no checkout, the work tree is not looked at), and stdin.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CORE_REL_PATH } from '../../src/core/detect';
import { createDemoRepos, DemoRepo } from '../../src/core/fixtures/demoRepo';
import { git, runMain, tmpDir } from './helpers';

const run = (argv: string[], stdin = ''): ReturnType<typeof runMain> => runMain(argv, stdin, 'latin1');

const dir = tmpDir('ctb-cli-ref-');
const bare = path.join(dir, 'mirror.git');
const patchFile = path.join(dir, 'race1.patch');
let demo: DemoRepo;
let base: string;
let race1Patch: string;
before(async () => {
  demo = await createDemoRepos({ dir, scenario: 'azure' });
  git(dir, 'clone', '--quiet', '--bare', demo.tree, bare);
  base = git(bare, 'rev-list', '--max-parents=0', 'master').trim();
  race1Patch = git(demo.upstream, 'format-patch', '-1', '--stdout', demo.upstreamShas.ed07d9a021df);
  fs.writeFileSync(patchFile, race1Patch);
});

test('detect --ref on a bare repository reads the blob and the history up to that ref', async () => {
  const onTree = JSON.parse((await run(['detect', '--json', demo.tree])).out);
  const r = await run(['detect', '--json', '--ref', 'master', bare]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.file, `master:${CORE_REL_PATH}`);
  assert.equal(j.history.available, true);
  assert.equal(j.races.race1.variant, 'azure-937963');
  for (const race of ['race1', 'race2', 'race3'])
    assert.deepEqual([j.races[race].verdict, j.races[race].variant], [onTree.races[race].verdict, onTree.races[race].variant], race);
  // At the base commit nothing is fixed, and the history there has no azure commits.
  const old = JSON.parse((await run(['detect', '--json', '--ref', base, bare])).out);
  assert.equal(old.races.race1.verdict, 'missing');
  assert.equal(old.history.commits.length, 0);
});

test('detect --ref on a normal repository ignores the work tree', async () => {
  const wt = path.join(demo.tree, CORE_REL_PATH);
  const saved = fs.readFileSync(wt);
  fs.writeFileSync(wt, 'garbage\n');
  try {
    const r = await run(['detect', '--no-history', '--ref', 'HEAD', demo.tree]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /race1: FIXED/);
    assert.equal(git(demo.tree, 'status', '--porcelain').trim(), `M ${CORE_REL_PATH}`);
  } finally {
    fs.writeFileSync(wt, saved);
  }
});

test('check-patch --ref: applied at master, not applied at the base commit', async () => {
  const at = async (ref: string) => JSON.parse((await run(['check-patch', '--json', '--ref', ref, patchFile, bare])).out)[0];
  assert.equal((await at('master')).overall, 'applied');
  const old = await at(base);
  assert.notEqual(old.overall, 'applied');
  const resolver = old.files[0].hunks.find((h: { function?: string }) => h.function === 'nf_ct_resolve_clash');
  assert.equal(resolver.state, 'not-applied');
  const gated = await run(['check-patch', '--fail-on-missing', '--ref', base, patchFile, bare]);
  assert.equal(gated.code, 1);
});

test('stdin: detect - reads the file, check-patch - reads the patch', async () => {
  const text = fs.readFileSync(path.join(demo.tree, CORE_REL_PATH), 'latin1');
  const d = await run(['detect', '--json', '-'], text);
  assert.equal(d.code, 0, d.err);
  assert.equal(JSON.parse(d.out).races.race1.verdict, 'fixed');
  const c = await run(['check-patch', '--json', '-', demo.tree], race1Patch);
  assert.equal(c.code, 0, c.err);
  assert.equal(JSON.parse(c.out)[0].overall, 'applied');
  const c2 = await run(['check-patch', '--json', patchFile, '-'], text);
  assert.equal(JSON.parse(c2.out)[0].overall, 'applied');
  assert.equal((await run(['check-patch', '-', '-'])).code, 2);
  assert.equal((await run(['detect', '-'], 'hello\n')).code, 3);
});

test('--ref errors: unknown ref, a directory that is not a repository, a ref starting with -', async () => {
  const nope = await run(['detect', '--ref', 'no-such-branch', bare]);
  assert.equal(nope.code, 3);
  assert.match(nope.err, /no commit named 'no-such-branch'/);
  const plain = await run(['detect', '--ref', 'HEAD', tmpDir()]);
  assert.equal(plain.code, 3);
  assert.match(plain.err, /not a git repository/);
  const dash = await run(['detect', '--ref=--output=x', bare]);
  assert.equal(dash.code, 2);
  const missing = await run(['detect', '--ref', 'master', demo.upstream.replace('upstream.git', 'nothing.git')]);
  assert.equal(missing.code, 3);
});

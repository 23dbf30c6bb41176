import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CatFileBatch, batchCheck } from '../../src/core/git/catfile';
import { CliGitWriter } from '../../src/core/git/writer';
import { GitError, gitAvailable, gitEnv, gitPipe, gitProcessCount, gitRun, gitText, watchGit } from '../../src/core/git/run';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cb-port-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

async function repo(): Promise<string> {
  const d = fs.mkdtempSync(path.join(tmp, 'r'));
  await gitRun(d, ['init', '-q', '-b', 'master']);
  fs.writeFileSync(path.join(d, 'a.txt'), 'one\n');
  await gitRun(d, ['add', 'a.txt']);
  await gitRun(d, ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'first']);
  return d;
}

test('the environment pins locale, pager, prompts and replace refs', () => {
  const e = gitEnv({ EXTRA: '1' });
  assert.equal(e.LC_ALL, 'C');
  assert.equal(e.GIT_NO_REPLACE_OBJECTS, '1');
  assert.equal(e.GIT_TERMINAL_PROMPT, '0');
  assert.equal(e.GIT_PAGER, 'cat');
  assert.equal(e.EXTRA, '1');
});

test('every process is seen by a watcher: one-shot, pipe, batch and reader/writer calls', async () => {
  const d = await repo();
  const seen: string[] = [];
  // The subcommand, after any `-c key=value` pairs (cat-file runs with bounded pack windows).
  const stop = watchGit((e) => seen.push(e.args.find((a, i) => a !== '-c' && e.args[i - 1] !== '-c') ?? ''));
  const before = gitProcessCount();
  try {
    assert.match(await gitText(d, ['rev-parse', 'HEAD']), /^[0-9a-f]{40}\n$/);
    const head = (await gitText(d, ['rev-parse', 'HEAD'])).trim();
    const ids = (await gitPipe(d, ['diff-tree', '--stdin', '-p', '--root'], ['patch-id', '--stable'], { input: head + '\n' })).toString();
    assert.match(ids, new RegExp(`^[0-9a-f]{40} ${head}`));
    const [check] = await batchCheck(d, ['HEAD:a.txt']);
    assert.equal(check.type, 'blob');
    const cat = new CatFileBatch(d);
    assert.equal((await cat.read('HEAD:a.txt'))?.content.toString(), 'one\n');
    assert.equal(await cat.read('HEAD:missing.txt'), null);
    cat.close();
    const w = new CliGitWriter(d);
    assert.equal((await w.status()).clean, true);
  } finally {
    stop();
  }
  assert.deepEqual(seen.slice(0, 6), ['rev-parse', 'rev-parse', 'diff-tree', 'patch-id', 'cat-file', 'cat-file']);
  assert.ok(seen.includes('status'));
  assert.equal(gitProcessCount() - before, seen.length);
  const after = seen.length;
  await gitText(d, ['rev-parse', 'HEAD']);
  assert.equal(seen.length, after, 'a stopped watcher hears nothing');
});

test("one error type, with git's words; okCodes and timeouts", async () => {
  const d = await repo();
  await assert.rejects(
    gitRun(d, ['rev-parse', '--verify', 'no-such-ref']),
    (e: unknown) => e instanceof GitError && e.code === 128 && /no-such-ref|Needed a single revision/.test(e.message),
  );
  assert.equal(await gitText(d, ['merge-base', '--is-ancestor', 'HEAD', 'HEAD']), '');
  await assert.rejects(gitPipe(d, ['cat-file', '-p', 'nope'], ['patch-id']), GitError);
  await assert.rejects(
    gitRun(d, ['-c', 'alias.nap=!exec sleep 1', 'nap'], { timeoutMs: 50 }),
    (e: unknown) => e instanceof GitError && e.code === null,
  );
  await assert.rejects(gitRun(d, ['merge-base', 'HEAD', '4b825dc642cb6eb9a060e54bf8d69288fbee4904']), GitError);
  await assert.rejects(gitRun(path.join(tmp, 'does-not-exist'), ['status']));
  assert.equal(await gitAvailable(), true);
});

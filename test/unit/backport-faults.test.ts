// Fault injection: every way a run can be refused, fail or die, and in each case nothing of
// the user's is lost. A refusal changes nothing (no backup ref, no recovery hint); a failure
// names the backup ref.
//
// The interrupted-run tests spawn the real CLI with CONNTRACK_BACKPORT_PAUSE_AFTER_STEP=k: the
// executor commits step k, prints "paused after step k" on stderr and waits; the test then
// kills it with SIGKILL, like a closed terminal or an OOM kill would.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abortRun, applyPlan, pendingRun, resumeRun } from '../../src/core/backport';
import { CliGitWriter } from '../../src/core/git/writer';
import { applyArgs, CORE, demo, git, prepare, read, runCli, snapshot } from './helpers/backport';

const BACKUP = /refs\/conntrack-backport\/backup\/\S+/;

/** A refusal: nothing changed, not even a backup ref, and no "reset --hard" to paste. */
function assertRefusedClean(
  res: { status: string; message: string; backupRef?: string },
  dir: string,
  before: ReturnType<typeof snapshot>,
): void {
  assert.equal(res.status, 'refused', res.message);
  assert.match(res.message, /nothing was changed$/);
  assert.doesNotMatch(res.message, /reset --hard/);
  assert.equal(res.backupRef, undefined);
  assert.deepEqual(snapshot(dir), before);
}

test('dirty tree: refused, nothing touched (no backup ref, no reset hint)', async () => {
  const r = await demo({ scenario: 'azure' });
  fs.appendFileSync(path.join(r.tree, CORE), '/* local experiment */\n');
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.errorCode, 'dirty');
  assertRefusedClean(res, r.tree, before);
});

test('dirty tree with the stash option: staged, unstaged and untracked changes come back', async () => {
  const r = await demo({ scenario: 'azure' });
  fs.appendFileSync(path.join(r.tree, 'README'), 'unstaged line\n');
  fs.appendFileSync(path.join(r.tree, 'Makefile'), '# staged line\n');
  git(r.tree, ['add', 'Makefile']);
  fs.writeFileSync(path.join(r.tree, 'scratch.txt'), 'untracked\n');
  const stashesBefore = git(r.tree, ['stash', 'list']);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan, { stash: true });
  assert.equal(res.status, 'done', res.message);
  assert.equal(res.stash?.restored, true);
  assert.equal(read(r), r.fixedCore);
  assert.match(read(r, 'README'), /unstaged line\n$/);
  assert.equal(git(r.tree, ['diff', '--cached', '--name-only']), 'Makefile', 'the staged change is staged again');
  assert.equal(git(r.tree, ['diff', '--name-only']), 'README');
  assert.equal(read(r, 'scratch.txt'), 'untracked\n');
  assert.equal(git(r.tree, ['stash', 'list']), stashesBefore, 'the stash list is as before');
});

test('dirty tree with the stash option, then a conflict and abort: back on master with the changes', async () => {
  const r = await demo({ scenario: 'none', conflict: true });
  fs.appendFileSync(path.join(r.tree, 'README'), 'unstaged line\n');
  fs.appendFileSync(path.join(r.tree, 'Makefile'), '# staged line\n');
  git(r.tree, ['add', 'Makefile']);
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan, { stash: true });
  assert.equal(res.status, 'conflict');
  assert.equal((await abortRun(r.tree)).status, 'aborted');
  assert.deepEqual(snapshot(r.tree), before);
});

test('an untracked file in the way of a pick: refused before any change', async () => {
  const added = 'tools/testing/selftests/netfilter/conntrack_same_origin.sh';
  const r = await demo({ scenario: 'none', pickAddsFile: added });
  fs.mkdirSync(path.dirname(path.join(r.tree, added)), { recursive: true });
  fs.writeFileSync(path.join(r.tree, added), 'my own script\n');
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.errorCode, 'untracked');
  assert.match(res.message, new RegExp(added.replace(/\//g, '\\/')));
  assertRefusedClean(res, r.tree, before);
});

test('a failing commit-msg hook: the run rolls itself back and keeps the backup ref', async () => {
  const r = await demo({ scenario: 'azure' });
  const hook = path.join(r.tree, '.git', 'hooks', 'commit-msg');
  fs.writeFileSync(hook, '#!/bin/sh\necho "commit-msg: rejected by policy" >&2\nexit 1\n', { mode: 0o755 });
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'failed');
  assert.equal(res.rolledBack, true);
  assert.match(res.message, /rejected by policy/);
  assert.match(res.message, BACKUP);
  assert.deepEqual(snapshot(r.tree, { ignoreBackupRefs: true }), before);
  assert.equal(git(r.tree, ['rev-parse', res.backupRef as string]), r.head);
  assert.equal(await pendingRun(r.tree), null);
});

test('a hook that fails only on the third commit: two commits made, all rolled back', async () => {
  const r = await demo({ scenario: 'azure' });
  const hook = path.join(r.tree, '.git', 'hooks', 'commit-msg');
  fs.writeFileSync(hook, '#!/bin/sh\ngrep -q "^netfilter: nf_conntrack: resolve clash" "$1" && exit 1\nexit 0\n', { mode: 0o755 });
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'failed', res.message + fs.readFileSync(hook, 'utf8'));
  assert.match(res.message, /step 3/);
  assert.deepEqual(snapshot(r.tree, { ignoreBackupRefs: true }), before);
  assert.equal(git(r.tree, ['branch', '--list', 'conntrack-backport/*']), '', "the run's branch is gone");
});

test('a missing remote: refused before any change', async () => {
  const r = await demo({ scenario: 'azure' });
  const before = snapshot(r.tree);
  const { plan } = await prepare(r, { remote: 'nosuch' });
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.errorCode, 'missing-remote');
  assert.match(res.message, /no remote named 'nosuch'/);
  assertRefusedClean(res, r.tree, before);
});

test('a missing commit on the remote: refused before any change', async () => {
  const r = await demo({ scenario: 'azure' });
  const before = snapshot(r.tree);
  const { plan } = await prepare(r, { commits: { ...r.upstreamShas, ed07d9a021df: '0123456789abcdef0123456789abcdef01234567' } });
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'refused');
  assert.equal(res.errorCode, 'missing-commit');
  assert.match(res.message, /0123456789abcdef/);
  assertRefusedClean(res, r.tree, before);
});

test('an operation in progress (a real conflicted cherry-pick): refused', async () => {
  const r = await demo({ scenario: 'none', conflict: true });
  git(r.tree, ['fetch', '--quiet', r.remote, r.upstreamShas['4e35c1cb9460']]);
  assert.throws(() => git(r.tree, ['cherry-pick', r.upstreamShas['4e35c1cb9460']]));
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'refused');
  assert.equal(res.errorCode, 'in-progress');
  assert.match(res.message, /cherry-pick is in progress/);
  assertRefusedClean(res, r.tree, before);
});

test('cancellation between steps rolls back', async () => {
  const r = await demo({ scenario: 'azure' });
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const ac = new AbortController();
  const res = await applyPlan(r.tree, plan, { signal: ac.signal, onProgress: (e) => e.step === 2 && ac.abort() });
  assert.equal(res.status, 'cancelled', res.message);
  assert.deepEqual(snapshot(r.tree), before);
});

test('the branch already exists: refused', async () => {
  const r = await demo({ scenario: 'azure' });
  git(r.tree, ['branch', 'conntrack-backport/bionic']);
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'refused');
  assertRefusedClean(res, r.tree, before);
});

test('names starting with - never reach git', async () => {
  const r = await demo({ scenario: 'none' });
  const w = new CliGitWriter(r.tree);
  await assert.rejects(w.createBranch('-D', 'HEAD'), /starts with '-'/);
  await assert.rejects(w.fetchCommit('--upload-pack=touch pwned', 'abc1234'), /starts with '-'/);
  await assert.rejects(w.updateRef('--stdin', r.head), /starts with '-'/);
  const out = await runCli(['backport', '--plan', r.tree, '--remote=--upload-pack=touch pwned']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /starts with '-'/);
  assert.ok(!fs.existsSync(path.join(r.tree, 'pwned')));
});

test('interrupted run (CLI killed after step 2): the journal finds it and resume finishes it', async () => {
  const r = await demo({ scenario: 'azure' });
  const killed = await runCli(applyArgs(r), { CONNTRACK_BACKPORT_PAUSE_AFTER_STEP: '2' }, /paused after step 2/);
  assert.equal(killed.signal, 'SIGKILL');
  const j = await pendingRun(r.tree);
  assert.ok(j);
  assert.equal(j.state, 'running');
  assert.equal(j.done.length, 2);
  assert.equal(git(r.tree, ['rev-parse', 'HEAD']), j.done[1]);
  // A new apply is refused and names the backup ref.
  const again = await applyPlan(r.tree, (await prepare(r)).plan);
  assert.equal(again.status, 'refused');
  assert.match(again.message, BACKUP);
  // The CLI resumes it.
  const resumed = await runCli(['backport', '--resume', r.tree, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
  assert.equal(JSON.parse(resumed.stdout).status, 'done');
  assert.equal(read(r), r.fixedCore);
  assert.equal(git(r.tree, ['rev-list', '--count', `${r.head}..HEAD`]), '4');
  assert.equal(await pendingRun(r.tree), null);
});

test('interrupted run (CLI killed after step 3): abort returns to exactly the prior state', async () => {
  const r = await demo({ scenario: 'azure' });
  fs.writeFileSync(path.join(r.tree, 'notes.txt'), 'untracked, not in the way\n');
  const before = snapshot(r.tree);
  const killed = await runCli(applyArgs(r), { CONNTRACK_BACKPORT_PAUSE_AFTER_STEP: '3' }, /paused after step 3/);
  assert.equal(killed.signal, 'SIGKILL');
  assert.equal((await pendingRun(r.tree))?.done.length, 3);
  const res = await abortRun(r.tree);
  assert.equal(res.status, 'aborted', res.message);
  assert.deepEqual(snapshot(r.tree), before);
});

test('interrupted after the commit but before the journal write: resume adopts the commit', async () => {
  const r = await demo({ scenario: 'azure' });
  const killed = await runCli(applyArgs(r), { CONNTRACK_BACKPORT_PAUSE_AFTER_STEP: '1' }, /paused after step 1/);
  assert.equal(killed.signal, 'SIGKILL');
  // Simulate the lost journal write of step 2: make step 2's commit by hand as the run would.
  const j = await pendingRun(r.tree);
  assert.ok(j);
  const step2 = j.resolved.steps[1];
  git(r.tree, ['revert', '--no-commit', step2.step.sha]);
  fs.writeFileSync(path.join(r.tree, '.git', 'MSG'), step2.message);
  git(r.tree, ['commit', '--quiet', '--cleanup=whitespace', '-F', path.join(r.tree, '.git', 'MSG')]);
  const res = await resumeRun(r.tree);
  assert.equal(res.status, 'done', res.message);
  assert.equal(res.commits.length, 4);
  assert.equal(read(r), r.fixedCore);
});

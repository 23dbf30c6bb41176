// Verify after acting: the run is a success only when detection reads the upstream state
// afterwards; otherwise it fails loudly and rolls back (unless asked to keep the result). The
// same check guards --resume.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPlan, pendingRun, resumeRun } from '../../src/core/backport';
import { applyArgs, demo, git, prepare, runCli, snapshot } from './helpers/backport';

/** A commit that is not the race-2 fix (it only edits README), to pass off as 4e35c1cb9460. */
function decoy(tree: string): string {
  git(tree, ['checkout', '--quiet', '-b', 'decoy']);
  fs.appendFileSync(path.join(tree, 'README'), 'not a conntrack fix\n');
  git(tree, ['commit', '--quiet', '-am', 'README: a line']);
  const sha = git(tree, ['rev-parse', 'HEAD']);
  git(tree, ['checkout', '--quiet', 'master']);
  return sha;
}

test('a forced mismatch (race-2 pick left out): the run fails, says what is wrong, and rolls back exactly', async () => {
  const r = await demo({ scenario: 'azure' });
  fs.writeFileSync(path.join(r.tree, 'notes.txt'), 'mine\n');
  fs.appendFileSync(path.join(r.tree, 'README'), 'uncommitted\n');
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  plan.steps = plan.steps.filter((s) => !(s.kind === 'cherry-pick' && s.variant === '4e35c1cb9460'));
  const res = await applyPlan(r.tree, plan, { stash: true });
  assert.equal(res.status, 'failed');
  assert.equal(res.errorCode, 'mismatch');
  assert.equal(res.rolledBack, true, res.message);
  assert.match(res.message, /^verification failed: after the last step race 2 is MISSING \(expected 4e35c1cb9460\)/);
  assert.equal(res.upstreamState, false);
  assert.deepEqual(snapshot(r.tree, { ignoreBackupRefs: true }), before, 'HEAD, branches, index, files, untracked, stash as before');
  assert.equal(
    git(r.tree, ['for-each-ref', '--format=%(refname)', 'refs/conntrack-backport/']).split('\n').filter(Boolean).length,
    1,
    'only the documented backup ref is left',
  );
  assert.equal(await pendingRun(r.tree), null);
});

test('--keep-on-mismatch keeps the result but still fails', async () => {
  const r = await demo({ scenario: 'azure' });
  const { plan } = await prepare(r);
  plan.steps = plan.steps.filter((s) => !(s.kind === 'cherry-pick' && s.variant === '4e35c1cb9460'));
  const res = await applyPlan(r.tree, plan, { keepOnMismatch: true });
  assert.equal(res.status, 'failed');
  assert.equal(res.errorCode, 'mismatch');
  assert.match(res.message, /verification failed: after the last step race 2 is MISSING.*kept as asked/);
  assert.equal(git(r.tree, ['symbolic-ref', '--short', 'HEAD']), 'conntrack-backport/bionic');
  assert.equal(git(r.tree, ['rev-list', '--count', `${r.head}..HEAD`]), '3');
  assert.equal(await pendingRun(r.tree), null);
});

test('CLI: a decoy commit passed as 4e35c1cb9460 exits non-zero and restores the original; the check also guards --resume', async () => {
  const r = await demo({ scenario: 'azure' });
  const sha = decoy(r.tree);
  const before = snapshot(r.tree);
  const args = applyArgs(r, { '4e35c1cb9460': sha });
  const out = await runCli(args);
  assert.equal(out.code, 1, out.stdout + out.stderr);
  assert.match(out.stdout, /^failed: verification failed: after the last step race 2 is MISSING/);
  assert.deepEqual(snapshot(r.tree, { ignoreBackupRefs: true }), before);

  // Killed after step 3, then resumed: the resumed run fails the same check and rolls back.
  const killed = await runCli(args, { CONNTRACK_BACKPORT_PAUSE_AFTER_STEP: '3' }, /paused after step 3/);
  assert.equal(killed.signal, 'SIGKILL');
  const res = await resumeRun(r.tree);
  assert.equal(res.status, 'failed');
  assert.equal(res.errorCode, 'mismatch');
  assert.equal(res.rolledBack, true);
  assert.deepEqual(snapshot(r.tree, { ignoreBackupRefs: true }), before);
});

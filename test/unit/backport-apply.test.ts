import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abortRun, applyPlan, continueRun, pendingRun, predictDiff, ProgressEvent } from '../../src/core/backport';
import { generateNatCore } from '../../src/core/fixtures/generate';
import { CORE, demo, git, prepare, read, snapshot } from './helpers/backport';

test('azure tree: apply gives base + exactly the two upstream changes, SRU messages, upstream verdicts after', async () => {
  const r = await demo({ scenario: 'azure', azureNat: true });
  const { plan } = await prepare(r);
  const events: ProgressEvent[] = [];
  const res = await applyPlan(r.tree, plan, { onProgress: (e) => events.push(e) });
  assert.equal(res.status, 'done', res.message);
  assert.equal(read(r), r.fixedCore, 'final file = base + the two upstream changes');
  assert.equal(read(r, 'net/netfilter/nf_nat_core.c'), generateNatCore({ azure952939: false }), 'the NAT-side azure change is gone');
  assert.equal(git(r.tree, ['diff', `${r.upstreamShas['4e35c1cb9460']}`, '--', CORE]), '', 'same bytes as upstream after both fixes');
  assert.equal(git(r.tree, ['symbolic-ref', '--short', 'HEAD']), 'conntrack-backport/bionic');
  assert.equal(git(r.tree, ['rev-parse', 'master']), r.head, 'the original branch did not move');
  assert.match(res.backupRef ?? '', /^refs\/conntrack-backport\/backup\//);
  assert.equal(git(r.tree, ['rev-parse', res.backupRef as string]), r.head);
  assert.equal(res.upstreamState, true, res.message);
  assert.equal(res.after?.race1, 'FIXED (ed07d9a021df)');
  assert.equal(res.after?.race2, 'FIXED (4e35c1cb9460)');
  assert.ok(!res.afterDetection?.variantsPresent.some((v) => v.startsWith('azure')));
  assert.deepEqual(
    events.filter((e) => e.phase === 'step').map((e) => `${e.step}/${e.total}`),
    ['1/4', '2/4', '3/4', '4/4'],
  );
  assert.equal(await pendingRun(r.tree), null, 'journal removed');

  // Messages, newest first: pick 4e35, pick ed07, revert 937963, revert 952939.
  const msgs = git(r.tree, ['log', '--format=%x1e%B', '-4'])
    .split('\x1e')
    .filter((m) => m.trim())
    .map((m) => m.trim().split('\n'));
  const [p2, p1, rv1, rv2] = msgs;
  for (const [m, sha] of [
    [p2, r.upstreamShas['4e35c1cb9460']],
    [p1, r.upstreamShas.ed07d9a021df],
  ] as const) {
    assert.equal(m[2], 'BugLink: https://bugs.launchpad.net/bugs/1836816');
    assert.equal(m.at(-2), `(cherry picked from commit ${sha})`);
    assert.equal(m.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
    assert.ok(m.includes('Signed-off-by: Martynas Pumputis <martynas@weave.works>'), 'upstream trailers kept');
  }
  assert.equal(rv2[0], 'Revert "UBUNTU: SAUCE: netfilter: nf_nat: return the same reply tuple for matching CTs"');
  assert.equal(rv1[0], 'Revert "UBUNTU: SAUCE: netfilter: nf_conntrack: resolve clash for matching conntracks"');
  for (const [m, sha] of [
    [rv1, r.azureShas['azure-937963']],
    [rv2, r.azureShas['azure-952939']],
  ] as const) {
    assert.equal(m[2], 'BugLink: https://bugs.launchpad.net/bugs/1836816');
    assert.ok(m.includes(`This reverts commit ${sha}.`));
    assert.equal(m.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
  }
  // Upstream authorship is kept on the picks.
  assert.equal(git(r.tree, ['log', '-1', '--format=%an <%ae> %aI']), 'Martynas Pumputis <martynas@weave.works> 2019-01-29T15:51:42+01:00');
});

test('stable style and in-place work on the current branch', async () => {
  const r = await demo({ scenario: 'none' });
  const { plan } = await prepare(r, { style: 'stable', branch: null });
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'done', res.message);
  assert.equal(git(r.tree, ['symbolic-ref', '--short', 'HEAD']), 'master');
  const m = git(r.tree, ['log', '-1', '--format=%B']).split('\n');
  assert.equal(m[2], `[ Upstream commit ${r.upstreamShas['4e35c1cb9460']} ]`);
  assert.equal(read(r), r.fixedCore);
});

test('predictDiff: the predicted file equals the result, and nothing in the repository changes', async () => {
  const r = await demo({ scenario: 'azure' });
  const { plan } = await prepare(r);
  await predictDiff(r.tree, plan); // the first call fetches (objects only)
  const before = snapshot(r.tree);
  const p = await predictDiff(r.tree, plan);
  assert.deepEqual(snapshot(r.tree), before);
  assert.equal(p.conflict, undefined);
  const core = p.files.find((f) => f.path === CORE);
  assert.ok(core);
  assert.equal(core.after, r.fixedCore);
  assert.equal(core.before, read(r));
  assert.match(core.patch, /^\+\s+if \(nf_ct_tuple_equal\(&ignored_conntrack/m);
  assert.equal(p.messages.length, 4);
  assert.ok(!fs.readdirSync(path.join(r.tree, '.git')).includes('worktrees'));
});

test('predictDiff reports the step that would conflict', async () => {
  const r = await demo({ scenario: 'none', conflict: true });
  const { plan } = await prepare(r);
  const before = snapshot(r.tree);
  const p = await predictDiff(r.tree, plan);
  assert.deepEqual(snapshot(r.tree), before);
  assert.equal(p.conflict?.step, 2);
  assert.deepEqual(p.conflict?.files, [CORE]);
});

test('a conflicting pick stops with the files; abort restores exactly the prior state', async () => {
  const r = await demo({ scenario: 'none', conflict: true });
  fs.writeFileSync(path.join(r.tree, 'notes.txt'), 'my untracked notes\n');
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'conflict', res.message);
  assert.deepEqual(res.conflict?.files, [CORE]);
  assert.equal(res.conflict?.step, 2);
  assert.equal(res.commits.length, 1, 'step 1 was committed');
  assert.match(res.message, /refs\/conntrack-backport\/backup\//);
  assert.equal((await pendingRun(r.tree))?.state, 'conflict');
  // A second apply is refused while this one is pending.
  assert.equal((await applyPlan(r.tree, plan)).status, 'refused');

  const ab = await abortRun(r.tree);
  assert.equal(ab.status, 'aborted', ab.message);
  assert.deepEqual(snapshot(r.tree), before);
  assert.equal(await pendingRun(r.tree), null);
});

test('a conflict resolved by hand: continue commits it as a backport and finishes', async () => {
  const r = await demo({ scenario: 'none', conflict: true });
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'conflict');
  // Continue refuses while markers or unmerged paths remain.
  assert.equal((await continueRun(r.tree)).status, 'conflict');
  const resolved = r.fixedCore.replace(
    '\t\t\tNF_CT_STAT_INC_ATOMIC(net, found);\n',
    '\t\t\tNF_CT_STAT_INC_ATOMIC(net, found); /* vendor */\n',
  );
  fs.writeFileSync(path.join(r.tree, CORE), resolved);
  git(r.tree, ['add', CORE]);
  const done = await continueRun(r.tree, { note: 'kept the vendor comment on the found counter' });
  assert.equal(done.status, 'done', done.message);
  assert.equal(read(r), resolved);
  const m = git(r.tree, ['log', '-1', '--format=%B']).split('\n');
  assert.equal(m[2], 'BugLink: https://bugs.launchpad.net/bugs/1836816');
  assert.equal(m.at(-3), `(backported from commit ${r.upstreamShas['4e35c1cb9460']})`);
  assert.equal(m.at(-2), '[sam: kept the vendor comment on the found counter]');
  assert.equal(m.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
  assert.equal(done.after?.race2, 'FIXED (4e35c1cb9460)');
});

test('patch files: picks come from an mbox via git am -3', async () => {
  const r = await demo({ scenario: 'azure' });
  const mbox = path.join(r.tree, '..', 'fixes.mbox');
  fs.writeFileSync(
    mbox,
    git(r.upstream, ['format-patch', '--stdout', `${r.upstreamShas.ed07d9a021df}~1..${r.upstreamShas['4e35c1cb9460']}`]) + '\n',
  );
  const { plan } = await prepare(r, { remote: undefined, patchFiles: [mbox] });
  assert.deepEqual(
    plan.steps.filter((s) => s.kind === 'cherry-pick').map((s) => s.source),
    [
      { patchFile: mbox, index: 0 },
      { patchFile: mbox, index: 1 },
    ],
  );
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'done', res.message);
  assert.equal(read(r), r.fixedCore);
  const m = git(r.tree, ['log', '-1', '--format=%an|%B']).split('\n');
  assert.match(m[0], /^Martynas Pumputis\|/);
  assert.equal(m[2], 'BugLink: https://bugs.launchpad.net/bugs/1836816');
  assert.equal(m.filter((l) => l.startsWith('(cherry picked from commit ')).length, 1);
  assert.equal(m.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
  assert.equal(res.upstreamState, true);
});

test('a conflict inside git am -3: abort closes the am session and restores the prior state; continue works too', async () => {
  for (const finish of ['no-base-blobs', 'abort', 'continue'] as const) {
    const r = await demo({ scenario: 'none', conflict: true });
    const mbox = path.join(r.tree, '..', 'fixes.mbox');
    fs.writeFileSync(
      mbox,
      git(r.upstream, ['format-patch', '--stdout', `${r.upstreamShas.ed07d9a021df}~1..${r.upstreamShas['4e35c1cb9460']}`]) + '\n',
    );
    // git am -3 needs the patch's pre-image blobs to merge; without them it can only fail.
    if (finish !== 'no-base-blobs') git(r.tree, ['fetch', '--quiet', r.remote]);
    const before = snapshot(r.tree);
    const { plan } = await prepare(r, { remote: undefined, patchFiles: [mbox] });
    const res = await applyPlan(r.tree, plan);
    if (finish === 'no-base-blobs') {
      assert.equal(res.status, 'failed', res.message);
      assert.equal(res.rolledBack, true);
      assert.match(res.message, /could not build fake ancestor/);
      assert.deepEqual(snapshot(r.tree, { ignoreBackupRefs: true }), before);
      continue;
    }
    assert.equal(res.status, 'conflict', res.message);
    assert.deepEqual(res.conflict?.files, [CORE]);
    assert.ok(fs.existsSync(path.join(r.tree, '.git', 'rebase-apply')), 'the am session is open');
    if (finish === 'abort') {
      assert.equal((await abortRun(r.tree)).status, 'aborted');
      assert.deepEqual(snapshot(r.tree), before);
      assert.ok(!fs.existsSync(path.join(r.tree, '.git', 'rebase-apply')));
    } else {
      fs.writeFileSync(path.join(r.tree, CORE), r.fixedCore);
      git(r.tree, ['add', CORE]);
      const done = await continueRun(r.tree, { note: 'dropped the vendor tracer lines' });
      assert.equal(done.status, 'done', done.message);
      assert.equal(read(r), r.fixedCore);
      const m = git(r.tree, ['log', '-1', '--format=%an|%B']).split('\n');
      assert.match(m[0], /^Martynas Pumputis\|/);
      assert.equal(m.at(-3), `(backported from commit ${r.upstreamShas['4e35c1cb9460']})`);
      assert.equal(m.at(-2), '[sam: dropped the vendor tracer lines]');
      assert.equal(m.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
      assert.ok(!fs.existsSync(path.join(r.tree, '.git', 'rebase-apply')));
    }
  }
});

test('azure code with no recognisable commit: blocked, then planned and applied once the user names it', async () => {
  const r = await demo({ scenario: 'azure' });
  // A vendor re-import hides the posting: no subject, no patchwork link, no provenance.
  git(r.tree, ['commit', '--amend', '-q', '-m', 'vendor: import networking updates']);
  const hidden = git(r.tree, ['rev-parse', 'HEAD']).trim();
  const blocked = (await prepare(r)).plan;
  assert.equal(blocked.steps.length, 0);
  assert.match(blocked.blocked ?? '', /--revert azure-952939=SHA/);

  const { plan } = await prepare(r, { reverts: { 'azure-952939': [hidden.slice(0, 12)] } });
  assert.deepEqual(plan.steps.map((s) => `${s.kind}:${s.variant}`).sort(), [
    'cherry-pick:4e35c1cb9460',
    'cherry-pick:ed07d9a021df',
    'revert:azure-937963',
    'revert:azure-952939',
  ]);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'done', res.message);
  assert.equal(read(r), r.fixedCore);
  // Newest first: the named (newer) commit is reverted before the 937963 posting below it.
  const subjects = git(r.tree, ['log', '--format=%s', '-4']).trim().split('\n');
  assert.deepEqual(subjects.slice(2), [
    'Revert "UBUNTU: SAUCE: netfilter: nf_conntrack: resolve clash for matching conntracks"',
    'Revert "vendor: import networking updates"',
  ]);
  assert.match(
    git(r.tree, ['log', '--format=%B', '-1', 'HEAD~3']),
    new RegExp(`This reverts commit ${hidden}\\.`),
    'the full id is read from git',
  );
  await assert.rejects(prepare(r, { reverts: { 'azure-952939': ['-rf'] } }));
});

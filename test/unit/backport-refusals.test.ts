// What git cannot do safely is refused before anything changes, with a one-line reason; names
// that reach a commit message or a pasted command cannot forge trailers or run code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abortRun, applyPlan, buildPlan, continueRun, parseIdentity } from '../../src/core/backport';
import { shellQuote } from '../../src/core/backport/quote';
import { normalizeSettings } from '../../src/core/settings';
import { CLI, CORE, demo, git, prepare, read, ROOT, snapshot } from './helpers/backport';

function assertRefused(
  res: { status: string; message: string; errorCode?: string; backupRef?: string },
  code: string,
  dir: string,
  before: ReturnType<typeof snapshot>,
): void {
  assert.equal(res.status, 'refused', res.message);
  assert.equal(res.errorCode, code, res.message);
  assert.equal(res.message.split('\n').length, 1, 'one line');
  assert.doesNotMatch(res.message, /reset --hard/, 'no reset hint when nothing changed');
  assert.doesNotMatch(res.message, /\n\s+at /, 'no stack trace');
  assert.equal(res.backupRef, undefined);
  assert.deepEqual(snapshot(dir), before);
}

const cli = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('a shallow clone: refused (a revert at the boundary would delete files)', async () => {
  const r = await demo({ scenario: 'none' });
  const shallow = path.join(ROOT, `shallow-${Date.now()}`);
  execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${r.tree}`, shallow]);
  git(shallow, ['remote', 'add', 'upstream', r.upstream]);
  git(shallow, ['config', 'user.name', 'S']);
  git(shallow, ['config', 'user.email', 's@example.com']);
  const before = snapshot(shallow);
  const { plan } = await prepare({ ...r, tree: shallow });
  const res = await applyPlan(shallow, plan);
  assertRefused(res, 'shallow', shallow, before);
  assert.match(res.message, /shallow clone.*git fetch --unshallow/);
});

test('a leftover .git/index.lock: refused, and the lock is left for the user', async () => {
  const r = await demo({ scenario: 'azure' });
  const lock = path.join(r.tree, '.git', 'index.lock');
  fs.writeFileSync(lock, '');
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assertRefused(res, 'index-lock', r.tree, before);
  assert.match(res.message, /index\.lock exists/);
  assert.ok(fs.existsSync(lock));
});

test('too little disk space: refused with the figures', async () => {
  const r = await demo({ scenario: 'azure' });
  const before = snapshot(r.tree);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan, { requiredFreeBytes: Number.MAX_SAFE_INTEGER });
  assertRefused(res, 'disk-space', r.tree, before);
  assert.match(res.message, /^too little disk space: [\d.]+ MiB free where the repository lives, the run needs about [\d.]+ MiB/);
});

test('--in-place on a detached HEAD: refused unless a branch is named; with a branch it works', async () => {
  const r = await demo({ scenario: 'none' });
  git(r.tree, ['checkout', '--quiet', '--detach']);
  const before = snapshot(r.tree);
  const { plan } = await prepare(r, { branch: null });
  assertRefused(await applyPlan(r.tree, plan), 'detached', r.tree, before);
  const out = cli([
    'backport',
    '--apply',
    r.tree,
    '--in-place',
    '--remote',
    r.remote,
    '--commit',
    `ed07d9a021df=${r.upstreamShas.ed07d9a021df}`,
    '--commit',
    `4e35c1cb9460=${r.upstreamShas['4e35c1cb9460']}`,
    '--bug',
    '1',
    '--signoff',
    'Sam <sam@example.com>',
  ]);
  assert.equal(out.code, 1);
  assert.match(out.stdout, /^refused: working in place on a detached HEAD would leave the commits on no branch: name a branch/);
  const res = await applyPlan(r.tree, (await prepare(r, { branch: 'sru/fix' })).plan);
  assert.equal(res.status, 'done', res.message);
  assert.equal(read(r), r.fixedCore);
});

test('sign-off forgery: a newline in the identity is refused in the CLI, the settings, the plan and git config', async () => {
  const r = await demo({ scenario: 'none' });
  const forged = 'Sam Submitter <sam@example.com>\nAcked-by: Kernel Maintainer <maint@example.org>';
  assert.equal(parseIdentity(forged), null);
  assert.equal(parseIdentity('Sam\rAcked-by: X <x@example.org>'), null);
  assert.deepEqual(parseIdentity('  Sam Submitter <sam@example.com>  '), { name: 'Sam Submitter', email: 'sam@example.com' });
  const out = cli(['backport', '--plan', r.tree, '--signoff', forged]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--signoff must be one line "Name <address>", got "Sam Submitter <sam@example.com>\\nAcked-by:/);
  const s = normalizeSettings({ signOff: forged });
  assert.equal(s.settings.signOff, '');
  assert.match(s.problems.join('\n'), /not one line/);
  const { detection } = await prepare(r);
  assert.throws(
    () => buildPlan(detection, detection.history, { signoff: { name: 'Sam\nAcked-by: X', email: 'sam@example.com' } }),
    /sign-off must be one line/,
  );
  // git config with a newline in user.name: the run refuses before changing anything.
  git(r.tree, ['config', 'user.name', 'Sam\nAcked-by: Maint <m@example.org>']);
  const before = snapshot(r.tree);
  const { plan } = await prepare(r, { signoff: undefined });
  const res = await applyPlan(r.tree, plan);
  assertRefused(res, 'no-identity', r.tree, before);
  assert.equal(git(r.tree, ['log', '--format=%B']).includes('Acked-by: Maint'), false);
});

test('--commit A=B=C is refused quoting the whole value', async () => {
  const r = await demo({ scenario: 'none' });
  const out = cli(['backport', '--plan', r.tree, '--commit', 'ed07d9a021df=abc1234=def5678']);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--commit takes ed07d9a021df=SHA or 4e35c1cb9460=SHA, got "ed07d9a021df=abc1234=def5678"/);
  const out2 = cli(['backport', '--plan', r.tree, '--commit=4e35c1cb9460=not-hex']);
  assert.equal(out2.code, 2);
  assert.match(out2.stderr, /got "4e35c1cb9460=not-hex"/);
});

test('recovery hints are shell-quoted: pasting them runs git with the exact names, nothing else', async () => {
  for (const w of ['wip;touch pwned', "it's", '$(touch pwned)', 'plain/name-1.2', '`id`']) {
    const echoed = execFileSync('sh', ['-c', `printf %s ${shellQuote(w)}`], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(echoed, w);
  }
  assert.ok(!fs.existsSync(path.join(ROOT, 'pwned')));
  // A conflict on a branch whose name holds shell syntax: the hint quotes it.
  const r = await demo({ scenario: 'none', conflict: true });
  git(r.tree, ['checkout', '--quiet', '-b', 'wip;touch-pwned']);
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'conflict', res.message);
  assert.match(res.message, /git checkout 'wip;touch-pwned' && git reset --hard refs\/conntrack-backport\/backup\/\S+$/);
  assert.equal((await abortRun(r.tree)).status, 'aborted');
});

test('--note works on a revert step that needed a hand-resolved conflict', async () => {
  const r = await demo({ scenario: 'azure', conflict: true });
  const { plan } = await prepare(r);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'conflict', res.message);
  assert.equal(res.conflict?.step, 1, 'the revert of 952939 meets the vendor edit');
  // Resolve: the vendor edit stays, 952939's lines go.
  const text = git(r.tree, ['show', `${r.azureShas['azure-937963']}:${CORE}`]) + '\n';
  const resolved = text
    .replace(
      '\t\tif (nf_ct_key_equal(h, tuple, zone, net)) {\n',
      '\t\tif (nf_ct_key_equal(h, tuple, zone, net)) {\n\t\t\tvendor_note_taken(ct);\n',
    )
    .replace('\t\t\tNF_CT_STAT_INC_ATOMIC(net, found);\n', '\t\t\tNF_CT_STAT_INC_ATOMIC(net, found); /* vendor */\n');
  fs.writeFileSync(path.join(r.tree, CORE), resolved);
  git(r.tree, ['add', CORE]);
  const c = await continueRun(r.tree, { note: 'kept the vendor tracer call in nf_conntrack_tuple_taken()' });
  assert.notEqual(c.status, 'refused', c.message);
  const msg = git(r.tree, ['log', '--format=%B', '-1', c.commits[0]]).split('\n');
  assert.match(msg[0], /^Revert "/);
  assert.ok(msg.includes('[sam: kept the vendor tracer call in nf_conntrack_tuple_taken()]'), msg.join('\n'));
  assert.equal(msg.at(-1), 'Signed-off-by: Sam Submitter <sam@example.com>');
  if (c.status === 'conflict') assert.equal((await abortRun(r.tree)).status, 'aborted');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, coverLetter, formatPlan, race1Backportable } from '../../src/core/backport';
import { detectText } from '../../src/core/detect';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { demo, prepare } from './helpers/backport';

test('azure tree: revert both azure commits newest first (found in history, not by id), then pick ed07d9a021df, 4e35c1cb9460', async () => {
  const r = await demo({ scenario: 'azure' });
  const { plan } = await prepare(r);
  assert.equal(plan.noop, undefined);
  assert.equal(plan.blocked, undefined);
  assert.deepEqual(
    plan.steps.map((s) => `${s.kind}:${s.kind === 'revert' ? s.sha : s.variant}`),
    [
      `revert:${r.azureShas['azure-952939']}`,
      `revert:${r.azureShas['azure-937963']}`,
      'cherry-pick:ed07d9a021df',
      'cherry-pick:4e35c1cb9460',
    ],
  );
  const picks = plan.steps.filter((s) => s.kind === 'cherry-pick');
  assert.deepEqual(
    picks.map((s) => s.sha),
    [r.upstreamShas.ed07d9a021df, r.upstreamShas['4e35c1cb9460']],
  );
  assert.deepEqual(
    picks.map((s) => s.source),
    [{ remote: 'upstream' }, { remote: 'upstream' }],
  );
  assert.match(formatPlan(plan), /revert/);
});

test('the real upstream ids are the defaults', async () => {
  const r = await demo({ scenario: 'none' });
  const { plan } = await prepare(r, { commits: {} });
  assert.deepEqual(
    plan.steps.map((s) => s.sha),
    ['ed07d9a021df6da53456663a76999189badc432a', '4e35c1cb9460240e983a01745b5f29fe3a4d8e39'],
  );
});

test('a tree with one fix picks the other', async () => {
  const r1 = await demo({ scenario: 'race1' });
  assert.deepEqual(
    (await prepare(r1)).plan.steps.map((s) => s.kind === 'cherry-pick' && s.variant),
    ['4e35c1cb9460'],
  );
  const r2 = await demo({ scenario: 'race2' });
  assert.deepEqual(
    (await prepare(r2)).plan.steps.map((s) => s.kind === 'cherry-pick' && s.variant),
    ['ed07d9a021df'],
  );
});

test('an already fixed tree: empty plan with the reason', async () => {
  const r = await demo({ scenario: 'upstream' });
  const { plan } = await prepare(r);
  assert.equal(plan.steps.length, 0);
  assert.match(plan.noop ?? '', /already present/);
});

test('a tree with the 2020 rework: superseded, nothing to do', async () => {
  const d = await detectText(generateConntrackCore({ era: '5.10', race2: 'upstream', fullSize: false }).text, 'nf_conntrack_core.c');
  const plan = buildPlan(d, undefined, {});
  assert.equal(plan.steps.length, 0);
  assert.match(plan.noop ?? '', /^superseded: nothing to do/);
});

test('4.9: race 1 is not backportable; only 4e35c1cb9460 is picked and the plan says so', async () => {
  const text = generateConntrackCore({ era: '4.9', fullSize: false }).text;
  assert.equal(race1Backportable(text), false);
  assert.equal(race1Backportable(generateConntrackCore({ era: '4.15', fullSize: false }).text), true);
  const plan = buildPlan(await detectText(text, 'nf_conntrack_core.c'), undefined, { race1Backportable: false });
  assert.deepEqual(
    plan.steps.map((s) => s.kind === 'cherry-pick' && s.variant),
    ['4e35c1cb9460'],
  );
  assert.match(plan.notes.join('\n'), /race 1 stays open/);
});

test('azure race-2 shape without history to revert: blocked, not guessed', async () => {
  const d = await detectText(
    generateConntrackCore({ era: '4.15', race1: 'upstream', race2: 'azure-952939', fullSize: false }).text,
    'nf_conntrack_core.c',
  );
  const plan = buildPlan(d, undefined, {});
  assert.equal(plan.steps.length, 0);
  assert.match(plan.blocked ?? '', /azure-952939/);
});

test('names starting with - are refused', async () => {
  const d = await detectText(generateConntrackCore({ era: '4.15', fullSize: false }).text, 'nf_conntrack_core.c');
  assert.throws(() => buildPlan(d, undefined, { remote: '--upload-pack=touch /tmp/x' }), /starts with '-'/);
  assert.throws(() => buildPlan(d, undefined, { branch: '-f' }), /starts with '-'/);
  assert.throws(() => buildPlan(d, undefined, { commits: { ed07d9a021df: '--all' } }), /starts with '-'/);
});

test('cover letter: [SRU][Series][PATCH 0/N] and the five sections, in order', async () => {
  const r = await demo({ scenario: 'azure' });
  const { plan, detection } = await prepare(r);
  const c = coverLetter({ plan, detection });
  assert.match(c, /^Subject: \[SRU\]\[Bionic\]\[PATCH 0\/4\] /);
  const idx = ['[Impact]', '[Fix]', '[Test Plan]', '[Where problems could occur]', '[Other Info]'].map((s) => c.indexOf(`\n${s}\n`));
  assert.ok(
    idx.every((i) => i > 0),
    'all sections present',
  );
  assert.deepEqual(
    [...idx].sort((a, b) => a - b),
    idx,
  );
  assert.match(c, /BugLink: https:\/\/bugs\.launchpad\.net\/bugs\/1836816/);
  assert.match(c, /azure-937963/);
});

// Planning against the tree as the reverts will leave it: a fix counts as present only if its
// code survives the planned reverts; when source and history disagree, revert then pick.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlan, buildPlan } from '../../src/core/backport';
import { detectText } from '../../src/core/detect';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { demo, prepare, read } from './helpers/backport';

const stepsOf = (plan: { steps: { kind: string; sha: string; variant: string }[] }): string[] =>
  plan.steps.map((s) => `${s.kind}:${s.kind === 'revert' ? s.sha : s.variant}`);

test('azure race-2 commit whose code reads as 4e35c1cb9460: revert + pick of 4e35c1cb9460, final file = base + the two upstream changes', async () => {
  const r = await demo({ scenario: 'azure', azureRace2: 'upstream-shape' });
  const { plan, detection } = await prepare(r);
  // The trap: the source layer alone calls race 2 upstream-fixed.
  assert.equal(detection.races.race2.variant, '4e35c1cb9460');
  assert.equal(plan.blocked, undefined, plan.blocked);
  assert.deepEqual(stepsOf(plan), [
    `revert:${r.azureShas['azure-952939']}`,
    `revert:${r.azureShas['azure-937963']}`,
    'cherry-pick:ed07d9a021df',
    'cherry-pick:4e35c1cb9460',
  ]);
  assert.match(plan.notes.join('\n'), /source and history disagree about race 2: .*4e35c1cb9460.*azure-952939.*safe side/);
  const res = await applyPlan(r.tree, plan);
  assert.equal(res.status, 'done', res.message);
  assert.equal(read(r), r.fixedCore, 'final file = base + the two upstream changes');
  assert.equal(res.upstreamState, true, res.message);
});

test('after-revert detection decides the picks: a surviving upstream fix is not picked again, a surviving azure variant blocks, no prediction picks again', async () => {
  const r = await demo({ scenario: 'azure', azureRace2: 'upstream-shape' });
  const { detection } = await prepare(r);
  const base = { remote: r.remote, commits: r.upstreamShas, bug: 1, signoff: { name: 'S', email: 's@example.com' } };
  const gen = (race1: 'none' | 'upstream', race2: 'none' | 'upstream' | 'azure-952939'): Promise<Awaited<ReturnType<typeof detectText>>> =>
    detectText(generateConntrackCore({ era: '4.15', race1, race2, fullSize: false }).text, 'nf_conntrack_core.c');

  const survives = buildPlan(detection, detection.history, { ...base, afterReverts: { detection: await gen('none', 'upstream') } });
  assert.deepEqual(
    survives.steps.filter((s) => s.kind === 'cherry-pick').map((s) => s.variant),
    ['ed07d9a021df'],
  );
  assert.match(survives.notes.join('\n'), /4e35c1cb9460 survives the reverts/);

  const stillAzure = buildPlan(detection, detection.history, { ...base, afterReverts: { detection: await gen('none', 'azure-952939') } });
  assert.equal(stillAzure.steps.length, 0);
  assert.match(stillAzure.blocked ?? '', /after the planned reverts race 2 still shows azure-952939/);

  const unknown = buildPlan(detection, detection.history, { ...base, afterReverts: { problem: 'reverting abc would conflict' } });
  assert.deepEqual(
    unknown.steps.filter((s) => s.kind === 'cherry-pick').map((s) => s.variant),
    ['ed07d9a021df', '4e35c1cb9460'],
  );
  assert.match(unknown.notes.join('\n'), /could not be predicted \(reverting abc would conflict\): every reverted fix is picked again/);

  const plain = buildPlan(detection, detection.history, base);
  assert.deepEqual(
    plain.steps.filter((s) => s.kind === 'cherry-pick').map((s) => s.variant),
    ['ed07d9a021df', '4e35c1cb9460'],
    'without a prediction: safe side',
  );
});

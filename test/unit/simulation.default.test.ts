// The panel opens on a scenario where the detected code drops (the model decides).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exploreScenario } from '../../src/core/model';
import { droppingScenario } from '../../src/simulation/defaultScenario';

test('the default scenario is one where the detected variant drops', () => {
  // The demo's azure tree carries races 1 and 2 (azure variants) but not race 3: dns-snat does not drop there, dns-vip does.
  assert.equal(exploreScenario('dns-snat', 'azure').dropSchedules, 0);
  assert.equal(droppingScenario('azure'), 'dns-vip');
  assert.ok(exploreScenario(droppingScenario('azure'), 'azure').dropSchedules > 0);
  // No fix at all: the first scenario (dns-snat) already drops.
  assert.equal(droppingScenario('none'), 'dns-snat');
  assert.ok(exploreScenario('dns-snat', 'none').dropSchedules > 0);
  assert.equal(droppingScenario(undefined), 'dns-snat');
});

test('Simulate on a fixed race compares the tree without that fix, and that variant drops where the tree does not', async () => {
  const { detectText } = await import('../../src/core/detect');
  const { generateConntrackCore } = await import('../../src/core/fixtures/generate');
  const { lensPlan } = await import('../../src/detection/presentation');
  const { defaultRequest, summarizeDetection } = await import('../../src/simulation/shape');
  const { withoutFixRequest } = await import('../../src/simulation/defaultScenario');
  const r = await detectText(
    generateConntrackCore({ era: '5.10', race2: 'upstream', zone: true, fullSize: false }).text,
    '/ws/net/netfilter/nf_conntrack_core.c',
  );
  assert.equal(r.races.race3.verdict, 'fixed');
  const sim = lensPlan(r, 'u')
    .find((g) => g.function === 'nf_ct_resolve_clash')!
    .items.find((i) => i.title === 'Simulate')!.args[0] as { scenario: string; before?: string };
  assert.deepEqual([sim.scenario, sim.before], ['dns-vip', 'both+zone']);
  const det = summarizeDetection(r)!;
  const req = withoutFixRequest(defaultRequest(sim.scenario, det), det, sim.before);
  assert.deepEqual(req.variants, { mode: 'manual', before: 'both+zone', after: det.variant });
  // The point of it: the tree itself does not drop in dns-vip, the tree without the rework does.
  assert.equal(exploreScenario('dns-vip', det.variant).dropSchedules, 0);
  assert.ok(exploreScenario('dns-vip', 'both+zone').dropSchedules > 0);
  // A missing race keeps the usual detected → after-backport comparison; nonsense ids change nothing.
  const old = await detectText(generateConntrackCore({ era: '4.15', fullSize: false }).text, '/ws/net/netfilter/nf_conntrack_core.c');
  const oldSim = lensPlan(old, 'u')
    .find((g) => g.function === 'nf_ct_resolve_clash')!
    .items.find((i) => i.title === 'Simulate')!.args[0] as { before?: string };
  assert.equal(oldSim.before, undefined);
  assert.deepEqual(withoutFixRequest(defaultRequest('dns-vip', det), det, 'no-such').variants, { mode: 'detected' });
});

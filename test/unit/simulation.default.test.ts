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

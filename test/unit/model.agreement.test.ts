// The Monte Carlo engine against the exhaustive one. Run under the exhaustive engine's scheduler
// (a runnable packet picked uniformly at each step), the Monte Carlo rates estimate exactly the
// probabilities the exhaustive engine computes by enumerating every schedule: the two share the
// steps but not the state handling (in-place reuse, chain unlinking, restore vs clone and
// fingerprint), so a speed-up of the Monte Carlo path that changed an outcome shows here. The
// TCP scenarios are the ones whose trials walk the largest tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exploreBuilt } from '../../src/core/model/exhaustive';
import { monteCarloBuilt } from '../../src/core/model/montecarlo';
import { buildScenario, getScenario } from '../../src/core/model/scenarios';
import type { ModelVariantId } from '../../src/core/model/variants';

const TRIALS = 30_000;

/** |estimate - p| within 4.5 standard errors of a binomial rate (plus a hair for p = 0 or 1). */
function near(hits: number, n: number, p: number, what: string): void {
  const se = Math.sqrt(Math.max(p * (1 - p), 1e-12) / n);
  const est = hits / n;
  assert.ok(Math.abs(est - p) <= 4.5 * se + 1e-9, `${what}: Monte Carlo ${est.toFixed(4)} (${hits}/${n}) vs exhaustive ${p.toFixed(4)}`);
}

const CASES: [string, ModelVariantId][] = [
  ['tcp-masquerade', 'none'],
  ['tcp-masquerade', 'both'],
  ['tcp-masquerade-random', 'none'],
  ['tcp-masquerade-random-fully', 'reverse2024'],
  ['tcp-port-race', 'both'],
  ['dns-snat', 'none'],
  ['dns-vip-nth', 'both'],
];

for (const [s, v] of CASES)
  test(`${s}/${v}: Monte Carlo under the uniform scheduler agrees with the exhaustive probabilities`, () => {
    const preset = getScenario(s);
    const ex = exploreBuilt(buildScenario(preset, v, preset.exhaustive ?? {}, 1), { maxTraces: 0 });
    const mc = monteCarloBuilt(buildScenario(preset, v, preset.exhaustive ?? {}, 1), { trials: TRIALS, seed: 17, scheduler: 'uniform' });
    assert.ok(ex.clashProbability > 0.01, `${s}/${v}: the case must clash to test anything (exhaustive ${ex.clashProbability})`);
    near(mc.racedRounds, mc.races, ex.clashProbability, `${s}/${v} P(clash)`);
    near(mc.lossRounds, mc.races, ex.dropProbability, `${s}/${v} P(loss)`);
    if (ex.dropGivenClash === 1 || ex.dropGivenClash === 0) assert.equal(mc.dropGivenClash, ex.dropGivenClash, `${s}/${v} P(drop | clash)`);
    // Every drop cause the Monte Carlo saw is one the exhaustive engine can reach.
    for (const c of Object.keys(mc.causes)) assert.ok(c in ex.causes, `${s}/${v}: cause ${c} not reachable exhaustively`);
  });

test('TCP: P(drop | clash) is 1 in both engines (TCP never merges), and the timed Monte Carlo reaches only reachable causes', () => {
  for (const s of ['tcp-masquerade', 'tcp-masquerade-random-fully']) {
    const preset = getScenario(s);
    const ex = exploreBuilt(buildScenario(preset, 'both', preset.exhaustive ?? {}, 1), { maxTraces: 0 });
    const timed = monteCarloBuilt(buildScenario(preset, 'both', preset.exhaustive ?? {}, 1), { trials: 20_000, seed: 3 });
    assert.equal(ex.dropGivenClash, 1);
    assert.ok(timed.clashes > 0, s);
    assert.equal(timed.dropGivenClash, 1, s);
    for (const c of Object.keys(timed.causes)) assert.ok(c in ex.causes, `${s}: cause ${c}`);
  }
});

// The panel's host-side pure logic: what the page may ask for, and the shapes it gets back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getScenario } from '../../src/core/model/scenarios';
import { exploreScenario } from '../../src/core/model/exhaustive';
import {
  afterBackport,
  counterTable,
  defaultRequest,
  eraColumns,
  exhaustiveOverrides,
  laneTraces,
  resolveVariants,
  sweepSpec,
  sweepTrials,
  symbolOf,
  validateRunRequest,
} from '../../src/simulation/shape';
import type { DetectionSummary } from '../../src/simulation/protocol';

const DET: DetectionSummary = { file: '/k/net/netfilter/nf_conntrack_core.c', variant: 'ed07d9a', after: 'both', caveats: [], exact: true };

test('a default request validates, with and without a detected tree', () => {
  const withTree = validateRunRequest(defaultRequest('dns-snat', DET), true);
  assert.ok(withTree.ok);
  const noTree = validateRunRequest(defaultRequest('dns-vip'), false);
  assert.ok(noTree.ok);
  assert.deepEqual(noTree.ok && noTree.value.variants, { mode: 'manual', before: 'none', after: 'both' });
});

test('validation rejects unknown scenarios, variants and out-of-range knobs, and names each problem', () => {
  const req = defaultRequest('dns-snat') as unknown as Record<string, any>;
  const bad = {
    ...req,
    scenario: 'dns-<script>',
    trials: 10,
    seed: -1,
    sweep: 'rm -rf',
    knobs: { ...req.knobs, cpus: 0, skewUs: 'fast', packets: 2.5, portMode: 'weird', occupiedPorts: 70000 },
    variants: { mode: 'manual', before: 'both', after: 'nope' },
  };
  const v = validateRunRequest(bad, true);
  assert.equal(v.ok, false);
  const errs: string = v.ok ? '' : v.errors.join('\n');
  for (const needle of [
    'scenario',
    'Trials',
    'Seed',
    'sweep',
    'CPUs',
    'Send skew: not a number',
    'Racing packets: must be a whole number',
    'portMode',
    'Ports already held',
    'variant "nope"',
  ]) {
    assert.ok(errs.includes(needle), `missing "${needle}" in\n${errs}`);
  }
  assert.equal(validateRunRequest(null, true).ok, false);
  assert.equal(validateRunRequest({ ...req, variants: { mode: 'detected' } }, false).ok, false, 'detected mode needs a tree');
});

test('validation rebuilds the request: fields the page invents do not reach the model', () => {
  const req = { ...defaultRequest('dns-snat'), evil: 1, knobs: { ...defaultRequest('dns-snat').knobs, max: 1, prefill: { udp: 1e9 } } };
  const v = validateRunRequest(req, false);
  assert.ok(v.ok);
  assert.ok(v.ok && !('evil' in v.value) && !('max' in v.value.knobs) && !('prefill' in v.value.knobs));
});

test('after the backport: both fixes for pre-rework trees, unchanged for rework trees', () => {
  assert.equal(afterBackport('none'), 'both');
  assert.equal(afterBackport('ed07d9a'), 'both');
  assert.equal(afterBackport('4e35c1cb'), 'both');
  assert.equal(afterBackport('azure'), 'both');
  assert.equal(afterBackport('both+zone'), 'both+zone');
  assert.equal(afterBackport('rework2020'), 'rework2020');
  assert.equal(afterBackport('reverse2024'), 'reverse2024');
  const req = defaultRequest('dns-snat', DET);
  assert.deepEqual(resolveVariants(req, DET), ['ed07d9a', 'both']);
  assert.throws(() => resolveVariants(req, undefined));
});

test('the explorer shrinks the TCP port space and reports what it changed', () => {
  const preset = getScenario('tcp-masquerade');
  const { overrides, shrunk } = exhaustiveOverrides(defaultRequest('tcp-masquerade'), preset);
  assert.equal(overrides.portRange, 6);
  assert.ok(shrunk.some((s) => s.startsWith('portRange 64512')));
  // Random port modes branch on every port, so the DNS presets enumerate an 8-port range too.
  assert.deepEqual(exhaustiveOverrides(defaultRequest('dns-snat'), getScenario('dns-snat')).shrunk, ['portRange 64512 → 8']);
  assert.deepEqual(exhaustiveOverrides(defaultRequest('no-nat'), getScenario('no-nat')).shrunk, []);
});

test("counter tables use the era's columns: clash_resolve only after the 2020 rework", () => {
  assert.ok(!eraColumns('pre2020').includes('clash_resolve'));
  assert.ok(eraColumns('post2020').includes('clash_resolve'));
  const t = counterTable([{ insert_failed: 2, drop: 1 }, { insert_failed: 3 }], eraColumns('pre2020'));
  assert.equal(t.rows.length, 2);
  const i = t.columns.indexOf('insert_failed');
  assert.deepEqual(
    t.rows.map((r) => r.values[i]),
    [2, 3],
  );
  assert.equal(t.totals[i], 5);
  assert.equal(t.totals[t.columns.indexOf('drop')], 1);
});

test('lanes: dropping schedules become CPU lanes with a decisive step and a C symbol per event', () => {
  const r = exploreScenario('dns-snat', 'none', { maxTraces: 3 });
  const lanes = laneTraces(r.traces);
  assert.ok(lanes.length > 0);
  for (const l of lanes) {
    assert.deepEqual(l.cpus, [0, 1]);
    assert.ok(
      l.events.some((e) => e.decisive && /DROP/.test(e.note)),
      'the drop is marked',
    );
    for (const e of l.events) assert.match(e.symbol ?? '', /^[A-Za-z_]\w*$/);
  }
  assert.equal(symbolOf('get_unique_tuple -> nf_nat_used_tuple'), 'get_unique_tuple');
  assert.equal(symbolOf('nf_nat_setup_info (DNAT)'), 'nf_nat_setup_info');
  assert.equal(symbolOf('(none)'), undefined);
});

test('sweeps: a few values of the chosen knob, a tenth of the trials each', () => {
  const req = defaultRequest('dns-snat');
  assert.deepEqual(sweepSpec('packets', req)?.values, [1, 2, 3, 4]);
  assert.ok(sweepSpec('skewUs', req)!.values.includes(0));
  assert.equal(sweepSpec('none', req), undefined);
  assert.equal(sweepTrials(100_000), 10_000);
  assert.equal(sweepTrials(500), 1_000);
  assert.equal(sweepTrials(5_000_000), 20_000);
});

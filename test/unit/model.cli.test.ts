// `simulate --set KNOB=VALUE ... --json`: validation and the JSON the issue asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKnobSettings, KNOB_SPECS } from '../../src/core/model/knobs';
import { getScenario } from '../../src/core/model/scenarios';
import { runMain } from './helpers';

const run = (...argv: string[]): ReturnType<typeof runMain> => runMain(argv);

test('--set parses every kind of knob, nested ones included, and the overflow table knobs apart', () => {
  const p = parseKnobSettings(
    ['endpoints=3', 'dnatMode=nth', 'serial=true', 'skewUs=7.5', 'whatIf.softTimeout=30', 'table.max=1024'],
    getScenario('dns-vip'),
  );
  assert.deepEqual(p.errors, []);
  assert.equal(p.overrides.endpoints, 3);
  assert.equal(p.overrides.dnatMode, 'nth');
  assert.equal(p.overrides.serial, true);
  assert.equal(p.overrides.skewUs, 7.5);
  assert.equal(p.overrides.whatIf?.softTimeout, 30);
  assert.equal(p.overrides.whatIf?.earlyDropClosing, false, 'the other what-ifs keep the preset value');
  assert.equal(p.table.max, 1024);
});

test('--set names each bad value with the reason', () => {
  const p = parseKnobSettings([
    'portMode=fast',
    'endpoints=99',
    'packets=1.5',
    'serial=maybe',
    'nope=1',
    'novalue',
    'skewUs=abc',
    'occupiedPorts=70000',
  ]);
  const errs = p.errors.join('\n');
  for (const needle of [
    'portMode=fast: must be one of default, random, random-fully',
    'endpoints=99: outside 0..16',
    'packets=1.5: must be a whole number',
    'serial=maybe: must be true or false',
    'nope: unknown knob',
    'novalue: expected key=value',
    'skewUs=abc: not a number',
    'occupiedPorts=70000: outside',
  ]) {
    assert.ok(errs.includes(needle), `missing "${needle}" in\n${errs}`);
  }
  assert.ok(parseKnobSettings(['dnatMode=nth', 'endpoints=1']).errors.some((e) => e.includes('nth needs endpoints >= 2')));
  assert.ok(Object.keys(KNOB_SPECS).length >= 40);
});

test('simulate --set ... --json carries clashes, merged, clash-inserted, dropped, P(drop|clash) and the two-backend share', async () => {
  const r = await run(
    'simulate',
    '--scenario',
    'dns-vip',
    '--variant',
    'rework2020',
    '--trials',
    '20000',
    '--seed',
    '3',
    '--set',
    'endpoints=2',
    '--set',
    'skewUs=20',
    '--json',
  );
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of [
    'clashes',
    'merged',
    'clashInserted',
    'dropped',
    'dropGivenClash',
    'twoBackendsShare',
    'racedRounds',
    'rules',
    'counters',
  ])
    assert.ok(k in j, k);
  assert.equal(j.clashes, j.merged + j.clashInserted + j.droppedAtConfirm);
  assert.ok(j.clashInserted > 0 && j.dropped === 0);
  // statistic random to 2 endpoints: about half of the raced rounds reach two backends (NAT_CLASH).
  assert.ok(Math.abs(j.twoBackendsShare - 0.5) < 0.05, String(j.twoBackendsShare));
  assert.equal(j.counters.clash_resolve, j.merged + j.clashInserted);
  const nth = JSON.parse(
    (await run('simulate', '--scenario', 'dns-vip-nth', '--variant', 'rework2020', '--trials', '20000', '--json')).out,
  );
  assert.equal(nth.twoBackendsShare, 1);
  const both = JSON.parse((await run('simulate', '--scenario', 'dns-vip-nth', '--variant', 'both', '--trials', '20000', '--json')).out);
  assert.equal(both.dropGivenClash, 1);
});

test('simulate table-overflow --json reports admitted, answered, evicted and early_drop', async () => {
  const r = await run(
    'simulate',
    '--scenario',
    'table-overflow',
    '--variant',
    'both',
    '--json',
    '--set',
    'table.max=256',
    '--set',
    'table.nonAssured=256',
    '--set',
    'flowRate=5000',
    '--set',
    'durationS=1',
    '--set',
    'udpFraction=1',
  );
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ['admitted', 'answered', 'evicted', 'early_drop', 'dropped']) assert.ok(k in j, k);
  assert.equal(j.admitted + j.dropped, j.flows);
  assert.equal(j.answered + j.evicted, j.admitted);
  assert.ok(j.early_drop > 0);
  assert.equal(j.max, 256);
});

test('simulate refuses bad --set values with exit 2 and every reason', async () => {
  const r = await run('simulate', '--scenario', 'dns-snat', '--variant', 'both', '--set', 'portMode=x', '--set', 'cpus=0');
  assert.equal(r.code, 2);
  assert.match(r.err, /portMode=x: must be one of/);
  assert.match(r.err, /cpus=0: outside 1\.\.8/);
  const k = await run('simulate', '--knobs');
  assert.equal(k.code, 0);
  assert.match(k.out, /^dnatMode\s+random\|nth/m);
  const u = await run('simulate', '--scenario', 'nope', '--variant', 'both');
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown scenario "nope"/);
});

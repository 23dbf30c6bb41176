// The table-overflow scenario in the panel: its timed-run knobs and what-ifs are validated on
// the host, kept out of every other scenario, and the comparison is "without vs with the
// what-ifs" unless the user asks for the backport (which does not change overflow behaviour).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_OVERFLOW_FLOWS,
  PAPER_WHATIF,
  columnSpecs,
  defaultRequest,
  hasWhatIf,
  overflowOptions,
  scenarioSummaries,
  validateRunRequest,
  whatIfLabel,
} from '../../src/simulation/shape';
import { runSimulation } from '../../src/simulation/run';
import type { RunRequest } from '../../src/simulation/protocol';

const hooks = () => ({ signal: { cancelled: false } });
const manual = { mode: 'manual' as const, before: 'none' as const, after: 'both' as const };

test("the overflow preset carries timed-run defaults with the paper's what-ifs; race presets carry none", () => {
  const sums = scenarioSummaries();
  const ov = sums.find((s) => s.name === 'table-overflow')!;
  assert.equal(ov.overflow?.max, 4096);
  assert.deepEqual(ov.overflow?.whatIf, PAPER_WHATIF);
  assert.equal(ov.overflow?.compare, 'whatif');
  assert.ok(sums.filter((s) => s.kind === 'race').every((s) => s.overflow === undefined));
  assert.ok(defaultRequest('table-overflow').overflow);
  assert.equal(defaultRequest('dns-snat').overflow, undefined);
});

test('overflow knobs validate, and each bad one is named', () => {
  const ok = validateRunRequest(defaultRequest('table-overflow'), false);
  assert.ok(ok.ok);
  const req = defaultRequest('table-overflow') as unknown as Record<string, any>;
  const bad = {
    ...req,
    overflow: {
      ...req.overflow,
      max: 3,
      buckets: 1.5,
      flowRate: 'lots',
      udpFraction: 1.2,
      durationS: 0,
      tcpLifetimeS: -1,
      whatIf: { earlyDropClosing: 'yes', softTimeout: -5, adaptiveThreshold: 1 },
      compare: 'sideways',
    },
  };
  const v = validateRunRequest(bad, false);
  assert.equal(v.ok, false);
  const errs = v.ok ? '' : v.errors.join('\n');
  for (const needle of [
    'nf_conntrack_max: 3 outside',
    'Hash buckets: must be a whole number',
    'New flows: not a number',
    'UDP (DNS) share: 1.2 outside',
    'Duration: 0 outside',
    'TCP lifetime',
    'Early drop of closing TCP: must be true or false',
    'Soft timeout while full: -5',
    'Adaptive timeouts above: 1 outside',
    'overflow compare',
  ]) {
    assert.ok(errs.includes(needle), `missing "${needle}" in\n${errs}`);
  }
  assert.equal(validateRunRequest({ ...req, overflow: 'x' }, false).ok, false);
  assert.equal(validateRunRequest({ ...req, overflow: { ...req.overflow, whatIf: undefined } }, false).ok, false);
});

test('a run too long to step is refused before it starts', () => {
  const req = defaultRequest('table-overflow');
  const v = validateRunRequest({ ...req, overflow: { ...req.overflow!, flowRate: 100_000, durationS: 86_400 } }, false);
  assert.equal(v.ok, false);
  assert.match(v.ok ? '' : v.errors.join(), /at most 3,000,000/);
  const edge = validateRunRequest({ ...req, overflow: { ...req.overflow!, flowRate: 1000, durationS: MAX_OVERFLOW_FLOWS / 1000 } }, false);
  assert.ok(edge.ok);
});

test('overflow knobs are dropped for race scenarios and defaulted when an overflow request lacks them', () => {
  const dns = { ...defaultRequest('dns-snat'), overflow: defaultRequest('table-overflow').overflow };
  const v = validateRunRequest(dns, false);
  assert.ok(v.ok && v.value.overflow === undefined);
  const { overflow: _drop, ...old } = defaultRequest('table-overflow');
  const w = validateRunRequest(old, false);
  assert.ok(w.ok && w.value.overflow?.max === 4096, 'a request saved before the overflow knobs existed still runs');
  // The validated block is rebuilt: unknown fields do not survive.
  const extra = {
    ...defaultRequest('table-overflow'),
    overflow: { ...defaultRequest('table-overflow').overflow!, prefill: 1e9, whatIf: { ...PAPER_WHATIF, evil: 1 } },
  };
  const x = validateRunRequest(extra, false);
  assert.ok(x.ok && !('prefill' in x.value.overflow!) && !('evil' in x.value.overflow!.whatIf));
});

test('columns: what-if mode runs the first variant twice; backport mode both variants under the what-ifs; race scenarios never get what-ifs', () => {
  const req = { ...defaultRequest('table-overflow'), variants: manual };
  const w = columnSpecs(req);
  assert.equal(w.comparison, 'whatif');
  assert.deepEqual(
    w.columns.map((c) => c.variant),
    ['none', 'none'],
  );
  assert.equal(hasWhatIf(w.columns[0].whatIf), false);
  assert.deepEqual(w.columns[1].whatIf, PAPER_WHATIF);
  const b = columnSpecs({ ...req, overflow: { ...req.overflow!, compare: 'backport' } });
  assert.equal(b.comparison, 'backport');
  assert.deepEqual(
    b.columns.map((c) => c.variant),
    ['none', 'both'],
  );
  assert.ok(b.columns.every((c) => hasWhatIf(c.whatIf)));
  const race = columnSpecs({ ...defaultRequest('dns-snat'), variants: manual });
  assert.ok(race.columns.every((c) => !hasWhatIf(c.whatIf)));
});

test("timed-run options carry the table size, flow mix and the column's what-ifs", () => {
  const req = defaultRequest('table-overflow');
  const o = overflowOptions(
    { ...req, overflow: { ...req.overflow!, max: 1000, buckets: 64, flowRate: 50, udpFraction: 0.9 } },
    PAPER_WHATIF,
  );
  assert.equal(o.max, 1000);
  assert.equal(o.buckets, 64);
  assert.equal(o.overrides?.flowRate, 50);
  assert.equal(o.overrides?.udpFraction, 0.9);
  assert.deepEqual(o.overrides?.whatIf, PAPER_WHATIF);
  assert.throws(() => overflowOptions(defaultRequest('dns-snat'), PAPER_WHATIF));
  assert.equal(whatIfLabel(PAPER_WHATIF), 'early drop of closing TCP · soft timeout 30 s while full · adaptive timeouts above 80 %');
  assert.equal(whatIfLabel({ earlyDropClosing: false, softTimeout: 0, adaptiveThreshold: 0 }), 'no what-ifs');
});

function overflowReq(over: Partial<NonNullable<RunRequest['overflow']>> = {}): RunRequest {
  const d = defaultRequest('table-overflow');
  return { ...d, variants: manual, trials: 1000, sweep: 'none', overflow: { ...d.overflow!, durationS: 120, ...over } };
}

test('panel run, what-if mode: the selected what-ifs cut table-full drops and time full; counters say so', async () => {
  const r = await runSimulation(1, overflowReq(), undefined, hooks());
  assert.equal(r.comparison, 'whatif');
  const [without, withW] = r.columns.map((c) => c.overflow!);
  assert.ok(without.dropped > 0 && without.fullFraction > 0.3, JSON.stringify(without));
  assert.ok(withW.dropRate < without.dropRate * 0.5, `${withW.dropRate} vs ${without.dropRate}`);
  assert.ok(withW.fullSeconds < without.fullSeconds);
  assert.equal(without.counters.totals[without.counters.columns.indexOf('early_drop')], without.earlyDrops);
  assert.ok(Math.abs(without.fullSeconds - without.fullFraction * 120) < 1e-9);
  assert.equal(without.max, 4096);
  assert.deepEqual(r.columns[1].whatIf, PAPER_WHATIF);
});

test('panel run, backport mode: the backport leaves overflow behaviour as it was', async () => {
  const r = await runSimulation(
    2,
    overflowReq({ compare: 'backport', whatIf: { earlyDropClosing: false, softTimeout: 0, adaptiveThreshold: 0 } }),
    undefined,
    hooks(),
  );
  assert.equal(r.comparison, 'backport');
  const [b, a] = r.columns.map((c) => c.overflow!);
  assert.deepEqual(
    r.columns.map((c) => c.variant),
    ['none', 'both'],
  );
  assert.equal(a.dropped, b.dropped);
  assert.equal(a.earlyDrops, b.earlyDrops);
});

test('table size and flow rate act on the timed run', async () => {
  const small = await runSimulation(
    3,
    overflowReq({ whatIf: { earlyDropClosing: false, softTimeout: 0, adaptiveThreshold: 0 }, max: 20_000, buckets: 5000 }),
    undefined,
    hooks(),
  );
  assert.equal(small.columns[0].overflow!.dropped, 0, 'a table larger than the live flows never fills');
  const slow = await runSimulation(4, overflowReq({ flowRate: 5 }), undefined, hooks());
  assert.equal(slow.columns[0].overflow!.dropped, 0);
});

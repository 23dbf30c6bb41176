// "Can I drop my workaround?": each mitigation against the tree and after the backport, in the
// CLI's table and the panel's card, with the verdicts a user reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mitigationTable, mitigationsUnavailable, mitigationVerdict } from '../../src/core/model/mitigations';
import { runSimulation } from '../../src/simulation/run';
import { defaultRequest, validateRunRequest } from '../../src/simulation/shape';

const verdicts = (t: ReturnType<typeof mitigationTable>) =>
  Object.fromEntries(t.rows.map((r) => [r.id, mitigationVerdict(r, t.rows[0], t.trials)]));

test('dns-snat, no fix -> both fixes: every workaround helps on the tree; single-request and tc delay can go after the backport', () => {
  const t = mitigationTable('dns-snat', 'none', 'both', {}, 20_000, 3);
  const row = (id: string) => t.rows.find((r) => r.id === id)!;
  assert.ok(row('none').before > 0.001, 'the unfixed tree delays lookups');
  assert.equal(row('none').after, 0, 'both fixes: no same-socket drop through SNAT alone');
  for (const id of ['single-request', 'use-vc', 'tc-delay', 'nodelocal'])
    assert.equal(row(id).before, 0, `${id} removes the race on the tree`);
  const v = verdicts(t);
  assert.equal(v.none, 'baseline');
  assert.equal(v['single-request'], 'can be dropped');
  assert.equal(v['tc-delay'], 'can be dropped');
  // Both fixes without the 2020 rework: --random-fully gives the two datagrams different ports.
  assert.equal(v['random-fully'], 'adds delays');
  assert.ok(row('musl').meanBeforeS < row('none').meanBeforeS, 'musl retries after timeout/attempts, not the whole timeout');
});

test('dns-vip with both fixes (race 3 left): NodeLocal DNSCache is still needed, single-request too', () => {
  const t = mitigationTable('dns-vip', 'both', 'both', {}, 20_000, 5);
  const v = verdicts(t);
  assert.ok(t.rows[0].after > 0.001, 'race 3: two endpoints still drop with both fixes');
  assert.equal(v.nodelocal, 'still needed');
  assert.equal(v['single-request'], 'still needed');
  assert.equal(t.rows.find((r) => r.id === 'nodelocal')!.after, 0);
});

test('rows set one mitigation each over a clean baseline, whatever the form had switched on', () => {
  const plain = mitigationTable('dns-snat', 'none', 'none', {}, 10_000, 2);
  const withMusl = mitigationTable('dns-snat', 'none', 'none', { libc: 'musl', tcDelayMs: 1 }, 10_000, 2);
  assert.deepEqual(withMusl.rows[0], plain.rows[0], 'the "no mitigation" row is glibc without a delay');
});

test('no table for TCP or overflow scenarios, with the reason', () => {
  assert.match(mitigationsUnavailable('tcp-masquerade') ?? '', /TCP/);
  assert.match(mitigationsUnavailable('table-overflow') ?? '', /overflow/);
  assert.equal(mitigationsUnavailable('dns-vip-nth'), undefined);
  assert.throws(() => mitigationTable('tcp-masquerade', 'none', 'both'), /TCP/);
});

test('the panel runs the card for the two columns, and the request validates the mitigation knobs', async () => {
  const req = {
    ...defaultRequest('dns-vip-nth'),
    trials: 4_000,
    sweep: 'none' as const,
    variants: { mode: 'manual' as const, before: 'none' as const, after: 'both' as const },
  };
  assert.equal(req.workarounds, true, 'DNS scenarios check the workarounds by default');
  assert.equal(req.knobs.dnatMode, 'nth');
  const v = validateRunRequest(req, false);
  assert.ok(v.ok);
  const r = await runSimulation(1, req, undefined, { signal: { cancelled: false } });
  const w = r.workarounds!;
  assert.deepEqual([w.before.variant, w.after.variant], ['none', 'both']);
  assert.equal(w.rows.length, 8);
  assert.equal(w.rows.find((x) => x.id === 'nodelocal')!.verdict, 'still needed', 'nth with both fixes drops every clash');
  // Older saved requests lack the mitigation knobs: they take the preset's values.
  const { dnatMode: _d, libc: _l, nodeLocalDns: _n, tcDelayMs: _t, ...old } = req.knobs;
  const ov = validateRunRequest({ ...req, knobs: old }, false);
  assert.ok(ov.ok && ov.value.knobs.dnatMode === 'nth' && ov.value.knobs.libc === 'glibc');
  const bad = validateRunRequest({ ...req, knobs: { ...req.knobs, libc: 'uclibc', tcDelayMs: -1 }, workarounds: 'yes' }, false);
  assert.ok(!bad.ok);
  assert.equal(bad.errors.length, 3, bad.errors.join('; '));
  const tcp = await runSimulation(2, { ...defaultRequest('tcp-masquerade'), trials: 1_000, sweep: 'none', workarounds: true }, undefined, {
    signal: { cancelled: false },
  });
  assert.match(tcp.workarounds?.unavailable ?? '', /TCP/);
});

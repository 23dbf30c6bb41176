// Tests generated from the catalogue and the fixture generator: every entry's sites fire on
// its fix state and stay silent on its parent state, in every era and under every noise kind;
// and the per-race verdicts equal what the generator says it generated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE } from '../../src/core/catalogue';
import { collectFacts, detectSource } from '../../src/core/detect/source';
import { ERA_TRAITS, ERAS, FixtureSpec, generateConntrackCore, NOISE_KINDS, NoiseKind } from '../../src/core/fixtures/generate';
import type { VariantId } from '../../src/core/types';

const NOISE_SETS: NoiseKind[][] = [[], ...NOISE_KINDS.map((k) => [k]), [...NOISE_KINDS]];

/** The fixture state in which an entry is present, and its parent (the state it fixes). */
function statesFor(id: VariantId, era: (typeof ERAS)[number]): { fix: FixtureSpec; parent: FixtureSpec } | null {
  const t = ERA_TRAITS[era];
  switch (id) {
    case 'ed07d9a021df':
    case 'azure-937963':
      return t.rework || t.noResolver ? null : { fix: { era, race1: 'upstream' }, parent: { era, race1: 'none' } };
    case '4e35c1cb9460':
      return { fix: { era, race2: 'upstream' }, parent: { era, race2: 'none' } };
    case '07998281c268':
      return { fix: { era, race2: 'upstream', zone: true }, parent: { era, race2: 'upstream' } };
    case 'azure-952939':
      return { fix: { era, race2: 'azure-952939' }, parent: { era, race2: 'none' } };
    case 'rework-2020':
      return t.rework ? { fix: { era }, parent: { era: '5.4', race1: 'none' } } : null;
    case 'reverse-2024':
      return t.reverse ? { fix: { era }, parent: { era: '5.10' } } : null;
    case 'nfqueue-2024':
      return t.rework ? { fix: { era, race4: 'fixed' }, parent: { era, race4: 'old' } } : null;
  }
}

for (const e of CATALOGUE) {
  test(`catalogue ${e.id}: sites fire on the fix state and not on the parent, all eras and noise`, async () => {
    let cases = 0;
    for (const era of ERAS) {
      const s = statesFor(e.id, era);
      if (!s) continue;
      for (const noise of NOISE_SETS) {
        const fix = await collectFacts(generateConntrackCore({ ...s.fix, noise, fullSize: false }).text);
        const parent = await collectFacts(generateConntrackCore({ ...s.parent, noise, fullSize: false }).text);
        const label = `${e.id} era ${era} noise [${noise.join(',')}]`;
        for (const site of e.sites) assert.ok(fix.matches.get(site)?.length, `${label}: ${site} must fire on the fix state`);
        assert.ok(!e.sites.every((site) => parent.matches.get(site)?.length), `${label}: sites must not all fire on the parent`);
        if (e.parentSite && e.parentSite !== e.sites[0]) {
          assert.ok(parent.matches.get(e.parentSite)?.length, `${label}: parent shape ${e.parentSite} must fire on the parent`);
          assert.ok(!fix.matches.get(e.parentSite)?.length, `${label}: parent shape ${e.parentSite} must not fire on the fix`);
        }
        cases++;
      }
    }
    assert.ok(cases > 0, `${e.id}: no era can carry it`);
  });
}

test('verdicts equal the generated state for every era x state x noise combination', async () => {
  let n = 0;
  const failures: string[] = [];
  for (const era of ERAS)
    for (const race1 of ['none', 'upstream', 'helper-only', 'resolver-only', 'conditional'] as const) {
      if (ERA_TRAITS[era].rework && race1 !== 'none') continue; // the rework fixes race 1 by itself
      for (const race2 of ['none', 'upstream', 'azure-952939'] as const)
        for (const zone of race2 === 'upstream' ? [false, true] : [false])
          for (const noise of NOISE_SETS) {
            const f = generateConntrackCore({ era, race1, race2, zone, noise, seed: n + 1, fullSize: false });
            const r = await detectSource(f.text, 'nf_conntrack_core.c');
            const got = [
              r.races.race1.verdict,
              r.races.race1.variant,
              r.races.race2.verdict,
              r.races.race2.variant,
              r.races.race3.verdict,
              r.zoneFollowup.present,
              r.rework2020.present,
              r.reverse2024.present,
            ];
            const want = [
              f.expect.race1,
              f.expect.race1Variant,
              f.expect.race2,
              f.expect.race2Variant,
              f.expect.race3,
              f.expect.zoneFollowup,
              f.expect.rework2020,
              f.expect.reverse2024,
            ];
            if (JSON.stringify(got) !== JSON.stringify(want))
              failures.push(`${era}/${race1}/${race2}/zone=${zone}/[${noise}]: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
            n++;
          }
    }
  assert.deepEqual(failures.slice(0, 5), []);
  assert.ok(n > 500, `only ${n} cases generated`);
});

test('conditional verdict names the preprocessor condition', async () => {
  const f = generateConntrackCore({ era: '4.15', race1: 'conditional', fullSize: false });
  const r = await detectSource(f.text, 'x.c');
  assert.equal(r.races.race1.verdict, 'conditional');
  assert.equal(r.races.race1.condition, 'CONFIG_NF_CONNTRACK_CLASH_MATCH');
  assert.ok(r.races.race1.evidence.some((e) => e.condition === '!CONFIG_NF_CONNTRACK_CLASH_MATCH' && !e.supports));
});

test('evidence points at the real lines of the matched site', async () => {
  const f = generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'upstream', noise: ['vendor', 'moved'] });
  const r = await detectSource(f.text, 'x.c');
  const lines = f.text.split('\n');
  const site = r.races.race1.evidence.find((e) => e.site.startsWith('race1.resolver-merges-matching'))!;
  assert.match(lines[site.startLine! - 1], /IPS_NAT_DONE_MASK/);
  assert.match(lines[site.endLine! - 1], /nf_ct_match\(ct, loser_ct\)/);
  const skip = r.races.race2.evidence.find((e) => e.site.startsWith('race2.same-origin-skip'))!;
  assert.match(lines[skip.startLine! - 1], /if \(nf_ct_tuple_equal\(&ignored_conntrack/);
  assert.match(lines[skip.endLine! - 1], /continue;/);
});

test('an #ifdef inside the resolver body makes race 1 conditional on that branch', async () => {
  const base = generateConntrackCore({ era: '4.15', race1: 'upstream', fullSize: false }).text;
  const fixed = '\t\tif (((ct->status & IPS_NAT_DONE_MASK) == 0) ||\n\t\t    nf_ct_match(ct, loser_ct)) {';
  assert.ok(base.includes(fixed));
  const split = base.replace(
    fixed,
    `#ifdef CONFIG_VENDOR_CLASH_FIX\n${fixed}\n#else\n\t\tif (((ct->status & IPS_NAT_DONE_MASK) == 0) &&\n\t\t    !nf_ct_is_dying(ct)) {\n#endif`,
  );
  const r = await detectSource(split, 'x.c');
  assert.equal(r.races.race1.verdict, 'conditional');
  assert.equal(r.races.race1.condition, 'CONFIG_VENDOR_CLASH_FIX');
  assert.deepEqual(
    r.races.race1.evidence.filter((e) => e.layer === 'source' && e.site.startsWith('race1.resolver')).map((e) => [e.supports, e.condition]),
    [
      [true, 'CONFIG_VENDOR_CLASH_FIX'],
      [false, '!CONFIG_VENDOR_CLASH_FIX'],
    ],
  );
});

test('v4.6-4.8 resolvers that test !nfct_nat(ct) are the unfixed shape, not unknown', async () => {
  const f = generateConntrackCore({ era: '4.7', fullSize: false });
  assert.match(f.text, /l4proto->allow_clash &&\n\t {4}!nfct_nat\(ct\) &&/);
  const r = await detectSource(f.text, 'x.c');
  assert.equal(r.races.race1.verdict, 'missing');
  assert.match(r.races.race1.evidence[0].site, /!nfct_nat\(ct\)/);
});

test('before v4.6 there is no clash resolution: race 1 is missing (every clash drops), not unknown', async () => {
  const r = await detectSource(generateConntrackCore({ era: '4.4', race2: 'upstream', fullSize: false }).text, 'x.c');
  assert.equal(r.races.race1.verdict, 'missing');
  assert.match(r.races.race1.explain, /no clash resolution at all/);
  assert.equal(r.races.race1.evidence[0].function, '__nf_conntrack_confirm');
  assert.equal(r.races.race2.verdict, 'fixed');
  assert.equal(r.races.race3.verdict, 'missing');
});

test('a 3.x-style tree (spelled-out key test, no resolver) is missing on races 1 and 2, not unknown', async () => {
  // Written for this test in the shape of pre-4.1 code: no nf_ct_key_equal(), no resolver.
  const src = `int
__nf_conntrack_confirm(struct sk_buff *skb)
{
	struct nf_conntrack_tuple_hash *h;
	struct hlist_nulls_node *n;

	hlist_nulls_for_each_entry(h, n, &net->ct.hash[hash], hnnode)
		if (nf_ct_tuple_equal(&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple, &h->tuple) &&
		    zone == nf_ct_zone(nf_ct_tuplehash_to_ctrack(h)))
			goto out;
	set_bit(IPS_CONFIRMED_BIT, &ct->status);
	return NF_ACCEPT;
out:
	NF_CT_STAT_INC(net, insert_failed);
	return NF_DROP;
}

int
nf_conntrack_tuple_taken(const struct nf_conntrack_tuple *tuple,
			 const struct nf_conn *ignored_conntrack)
{
	struct nf_conntrack_tuple_hash *h;
	struct hlist_nulls_node *n;
	struct nf_conn *ct;

	rcu_read_lock_bh();
	hlist_nulls_for_each_entry_rcu(h, n, &net->ct.hash[hash], hnnode) {
		ct = nf_ct_tuplehash_to_ctrack(h);
		if (ct != ignored_conntrack &&
		    nf_ct_tuple_equal(tuple, &h->tuple) &&
		    nf_ct_zone(ct) == zone) {
			NF_CT_STAT_INC(net, found);
			rcu_read_unlock_bh();
			return 1;
		}
	}
	rcu_read_unlock_bh();
	return 0;
}
`;
  const r = await detectSource(src, 'x.c');
  assert.equal(r.races.race1.verdict, 'missing');
  assert.equal(r.races.race2.verdict, 'missing');
  assert.equal(r.races.race2.evidence[0].startLine, src.split('\n').findIndex((l) => l.includes('if (ct != ignored_conntrack')) + 1);
  assert.equal(r.races.race3.verdict, 'missing');
});

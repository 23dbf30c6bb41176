// Detection never says "fixed" for code that cannot run or cannot be read: fix sites under a
// constant-false #if, a rework whose resolver never calls the clash-harder path, damaged
// definitions; and one damaged function does not hide the others. Inputs come from the
// project's generator; the fuzz part mutates generated files with a seeded generator.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectSource } from '../../src/core/detect/source';
import { evaluateCondition } from '../../src/core/parse/compiled';
import { ERA_TRAITS, ERAS, fixSiteSpans, generateConntrackCore } from '../../src/core/fixtures/generate';
import { checkMutant, newTally, randomMutant, spansOf } from './helpers/fuzz';
import { Rng } from '../../src/core/fixtures/rng';

type Race = 'race1' | 'race2' | 'race3';
const RACE_IDS: Race[] = ['race1', 'race2', 'race3'];

/** Every era with every fix it can carry. */
function fullyFixed(): { era: (typeof ERAS)[number]; text: string }[] {
  return ERAS.filter((e) => !ERA_TRAITS[e].noResolver).map((era) => ({
    era,
    text: generateConntrackCore({ era, race1: 'upstream', race2: 'upstream', zone: true, fullSize: false }).text,
  }));
}

const lineStart = (t: string, off: number): number => t.lastIndexOf('\n', off - 1) + 1;
const lineEnd = (t: string, off: number): number => {
  const i = t.indexOf('\n', off);
  return i < 0 ? t.length : i + 1;
};

/** Wraps the whole lines holding [start, end) in `open` ... `#endif`. */
function wrapLines(t: string, start: number, end: number, open: string): string {
  const a = lineStart(t, start);
  const b = lineEnd(t, end - 1);
  return `${t.slice(0, a)}${open}\n${t.slice(a, b)}#endif\n${t.slice(b)}`;
}

test('constant-false conditions evaluate to 0; configuration stays open', () => {
  assert.equal(evaluateCondition('0'), 0);
  assert.equal(evaluateCondition('0 && CONFIG_X'), 0);
  assert.equal(evaluateCondition('CONFIG_A && !(1)'), 0);
  assert.equal(evaluateCondition('!(0 && X)'), 1);
  assert.equal(evaluateCondition('CONFIG_X'), undefined);
  assert.equal(evaluateCondition('IS_ENABLED(CONFIG_NF_NAT) || 0'), undefined);
  assert.equal(evaluateCondition('X', new Set(['X'])), 0, "#ifdef of something the file #undef'd");
});

test('#if 0 around every fix site of every race, in every era, is never fixed, and the verdict says so', async () => {
  let n = 0;
  for (const { era, text } of fullyFixed()) {
    const spans = fixSiteSpans(text);
    const before = await detectSource(text, 'x.c');
    for (const race of RACE_IDS) {
      if (!spans[race].length) continue;
      assert.equal(before.races[race].verdict, 'fixed', `${era} ${race}: the unmutated file is fixed`);
      for (const sp of spans[race])
        for (const open of ['#if 0', '#if 0 && CONFIG_NF_CONNTRACK']) {
          const r = await detectSource(wrapLines(text, sp.start, sp.end, open), 'x.c');
          const v = r.races[race];
          assert.notEqual(v.verdict, 'fixed', `${era} ${race}: ${sp.what} under ${open} must not be fixed`);
          assert.match(v.explain, /never compiled/, `${era} ${race}: ${sp.what} under ${open}: ${v.explain}`);
          n++;
        }
    }
  }
  assert.ok(n > 60, `only ${n} cases`);
});

test('an #if 0 with no #endif (unbalanced) kills everything after it; #ifdef of a macro the file #undefs is dead too', async () => {
  const text = generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'upstream', fullSize: false }).text;
  const at = text.indexOf('static int nf_ct_resolve_clash(');
  const r = await detectSource(`${text.slice(0, at)}#if 0\n${text.slice(at)}`, 'x.c');
  assert.notEqual(r.races.race1.verdict, 'fixed');
  assert.notEqual(r.races.race2.verdict, 'fixed');
  assert.ok(r.neverCompiled?.length);
  const undef = `#undef CONFIG_CT_CLASH\n${wrapLines(text, at, at + 10, '#ifdef CONFIG_CT_CLASH')}`;
  assert.notEqual((await detectSource(undef, 'x.c')).races.race1.verdict, 'fixed');
  // #else of #if 0 is compiled
  const elseBranch = `${text.slice(0, at)}#if 0\nstatic int unused;\n#else\n${text.slice(at)}`.replace(
    'EXPORT_SYMBOL_GPL(nf_conntrack_tuple_taken);',
    'EXPORT_SYMBOL_GPL(nf_conntrack_tuple_taken);\n#endif',
  );
  const e = await detectSource(elseBranch, 'x.c');
  assert.equal(e.races.race1.verdict, 'fixed');
  assert.equal(e.races.race2.verdict, 'fixed');
});

test('a rework whose resolver does not call nf_ct_resolve_clash_harder() is not race-3 fixed', async () => {
  for (const era of ERAS.filter((e) => ERA_TRAITS[e].rework)) {
    const text = generateConntrackCore({ era, race2: 'upstream', fullSize: false }).text;
    const call = '\tret = nf_ct_resolve_clash_harder(skb, reply_hash);\n';
    assert.ok(text.includes(call));
    const r = await detectSource(text.replace(call, ''), 'x.c');
    assert.equal(r.races.race3.verdict, 'partial', era);
    assert.match(r.races.race3.explain, /never calls it|never reached/);
    assert.equal(r.rework2020.present, false);
    assert.equal(r.races.race1.verdict, 'fixed', `${era}: race 1 still merges through __nf_ct_resolve_clash()`);
  }
});

test('a helper whose definition line is damaged but whose name survives does not count', async () => {
  const text = generateConntrackCore({ era: '4.19', race1: 'upstream', fullSize: false }).text;
  for (const bad of [
    'nf_ct_match(const struct nf_conn *ct1, const strXct nf_conn *ct2)',
    'nf_ct_match(const struct nf_conn *ct1, const struct nf_conn *ct1)',
    'nf_ct_match(const struct nf_conn *ct1 const struct nf_conn *ct2)',
  ]) {
    const r = await detectSource(text.replace('nf_ct_match(const struct nf_conn *ct1, const struct nf_conn *ct2)', bad), 'x.c');
    assert.notEqual(r.races.race1.verdict, 'fixed', bad);
  }
});

test('one stray { keeps the other functions and their verdicts, and names the damaged region', async () => {
  for (const era of ['4.19', '5.10', '6.13'] as const) {
    const f = generateConntrackCore({ era, race1: 'upstream', race2: 'upstream', fullSize: false });
    const clean = await detectSource(f.text, 'x.c');
    // in nf_ct_key_equal (read by no race), and in the race-2 function
    const inKey = f.text.replace(
      'struct nf_conn *ct = nf_ct_tuplehash_to_ctrack(h);\n\n\treturn nf_ct_tuple_equal(tuple',
      'struct nf_conn *ct = nf_ct_tuplehash_to_ctrack(h);\n\t{\n\treturn nf_ct_tuple_equal(tuple',
    );
    assert.notEqual(inKey, f.text);
    const r = await detectSource(inKey, 'x.c');
    assert.equal(r.kernelFile, true, era);
    for (const race of RACE_IDS) assert.equal(r.races[race].verdict, clean.races[race].verdict, `${era} ${race}`);
    assert.match(r.damage?.[0]?.reason ?? '', /nf_ct_key_equal\(\)/);
    const inTaken = f.text.replace('\t\tif (ct == ignored_conntrack)\n', '\t\tif (ct == ignored_conntrack) {\n');
    const t = await detectSource(inTaken, 'x.c');
    assert.equal(t.races.race2.verdict, 'unknown', `${era}: the damaged race-2 function`);
    assert.match(t.races.race2.explain, /nf_conntrack_tuple_taken\(\).*damaged/);
    assert.equal(t.races.race1.verdict, clean.races.race1.verdict, `${era}: race 1 lives elsewhere`);
    // an extra } closes a function early: the rest of the file is still read
    const extra = f.text.replace('\t\tif (ct == ignored_conntrack)\n', '\t\t}\n\t\tif (ct == ignored_conntrack)\n');
    const x = await detectSource(extra, 'x.c');
    assert.equal(x.races.race2.verdict, 'unknown');
    assert.equal(x.races.race1.verdict, clean.races.race1.verdict);
  }
});

test('CR-only line endings are read as lines, also when the file starts with a // comment', async () => {
  const f = generateConntrackCore({ era: '5.10', race2: 'upstream', zone: true, fullSize: false });
  const text = f.text.replace(/\n/g, '\r');
  assert.ok(text.startsWith('//'));
  const r = await detectSource(text, 'x.c');
  const clean = await detectSource(f.text, 'x.c');
  assert.equal(r.kernelFile, true);
  for (const race of RACE_IDS) assert.equal(r.races[race].verdict, clean.races[race].verdict, race);
  assert.equal(r.functions.nf_conntrack_tuple_taken.startLine, clean.functions.nf_conntrack_tuple_taken.startLine);
});

// ---- fuzz --------------------------------------------------------------------------------

test('fuzz: mutated generated files never crash and never read fixed when a fix site was destroyed (seeded, time-bounded)', async () => {
  // A fast deterministic sample; scripts/fuzz-detect.mjs runs every mutant of the space.
  const rng = new Rng(20261203);
  const bases = fullyFixed().map((b) => ({ ...b, spans: spansOf(b.text) }));
  const deadline = Date.now() + 60000; // a safety bound: the run is the first 600 seeded mutants
  const tally = newTally();
  while (Date.now() < deadline && tally.mutants < 600) {
    const base = bases[rng.int(bases.length)];
    await checkMutant(base.era, randomMutant(rng, base.text, base.spans.all), base.spans.byRace, tally);
  }
  assert.deepEqual(tally.failures.slice(0, 8), []);
  assert.equal(tally.crashes, 0);
  assert.ok(tally.mutants >= 600, `only ${tally.mutants} mutants in the time bound`);
  assert.ok(tally.destroyed >= 300, `only ${tally.destroyed} mutants destroyed a fix site`);
});

test('mutants that once read fixed with their fix site destroyed: renamed names, wrong arity, unknown constants, damaged heads', async () => {
  const flip = (t: string, at: number, bit: number): string =>
    t.slice(0, at) + String.fromCharCode(t.charCodeAt(at) ^ bit) + t.slice(at + 1);
  const gen = (era: '5.4' | '5.10' | '6.13'): string =>
    generateConntrackCore({ era, race1: 'upstream', race2: 'upstream', zone: true, fullSize: false }).text;
  const cases: { era: '5.4' | '5.10' | '6.13'; find: string; at: number; bit: number; race: Race }[] = [
    // nf_ct_can_merge(): nf_ct_match(ct, lkser_ct) names an undeclared variable
    { era: '6.13', find: 'return nf_ct_match(ct, loser_ct) ||', at: 24, bit: 4, race: 'race1' },
    // IPS_FIXED_TIMEKUT: a constant no header or the file defines
    { era: '6.13', find: 'IPS_FIXED_TIMEOUT | IPS_NAT_CLASH', at: 14, bit: 4, race: 'race3' },
    // nf_ct_match(ct. loser_ct): one argument where nf_ct_match() takes two
    { era: '5.4', find: 'nf_ct_match(ct, loser_ct)) {', at: 14, bit: 2, race: 'race1' },
    // nf_ct_match(ct,!loser_ct)
    { era: '5.4', find: 'nf_ct_match(ct, loser_ct)) {', at: 15, bit: 1, race: 'race1' },
    // struct sj_buff: a parameter type nothing declares
    { era: '5.10', find: 'static int __nf_ct_resolve_clash(struct sk_buff *skb,', at: 41, bit: 1, race: 'race1' },
    // 3tatic int __nf_ct_resolve_clash(...)
    { era: '5.10', find: 'static int __nf_ct_resolve_clash(struct sk_buff *skb,', at: 0, bit: 64, race: 'race3' },
    // __nf_ct_resolve_clash(struct sk_buff *skr, ...): the body's skb is then undeclared
    { era: '6.13', find: 'static int __nf_ct_resolve_clash(struct sk_buff *skb,', at: 51, bit: 16, race: 'race3' },
    // nf_ct_resolve_clash_harder(struct sk_buff *skb, u32 repd_idx)
    { era: '6.13', find: 'static int nf_ct_resolve_clash_harder(struct sk_buff *skb, u32 repl_idx)', at: 66, bit: 8, race: 'race3' },
    // __nf_conntrack_hash_insert(loser_ct, rapl_idx, IP_CT_DIR_REPLY)
    { era: '6.13', find: '__nf_conntrack_hash_insert(loser_ct, repl_idx, IP_CT_DIR_REPLY);', at: 38, bit: 4, race: 'race3' },
    // struct sk_buff \nskb: a struct by value where the kernel passes a pointer
    { era: '5.10', find: 'static int __nf_ct_resolve_clash(struct sk_buff *skb,', at: 48, bit: 32, race: 'race1' },
    // hlist_nulls_add_fake(...)+ joins the next statement: not a statement of its own
    { era: '5.10', find: 'hlist_nulls_add_fake(&loser_ct->tuplehash[IP_CT_DIR_ORIGINAL].hnnode);', at: 69, bit: 16, race: 'race3' },
    // __of_conntrack_hash_insert(...): a function the file neither defines nor calls elsewhere
    { era: '6.13', find: '__nf_conntrack_hash_insert(loser_ct, repl_idx, IP_CT_DIR_REPLY);', at: 2, bit: 1, race: 'race3' },
    // ret - nf_ct_resolve_clash_harder(...): the result is discarded
    { era: '6.13', find: 'ret = nf_ct_resolve_clash_harder(skb, reply_hash);', at: 4, bit: 16, race: 'race3' },
  ];
  for (const c of cases) {
    const t = gen(c.era);
    const at = t.indexOf(c.find);
    assert.ok(at >= 0, c.find);
    const mutant = flip(t, at + c.at, c.bit);
    assert.notEqual(mutant.slice(at, at + c.find.length), c.find);
    const r = await detectSource(mutant, 'x.c');
    assert.equal((await detectSource(t, 'x.c')).races[c.race].verdict, 'fixed', `${c.era} unmutated`);
    assert.notEqual(
      r.races[c.race].verdict,
      'fixed',
      `${c.era} ${JSON.stringify(mutant.slice(at, at + c.find.length))}: ${r.races[c.race].explain}`,
    );
  }
});

test('race 4 from the generator: old nfqueue clash logic is missing, 8af79d3edb5f fixed (partial below the rework), no hook not-applicable; nfnetlink_queue.c without the hook call says not in this tree', async () => {
  const { generateNfqueue } = await import('../../src/core/fixtures/generate');
  const { scanNfqueue, joinNfqueue } = await import('../../src/core/detect/nfqueue');
  for (const era of ['4.19', '5.4', '5.10', '6.13'] as const)
    for (const race4 of ['old', 'fixed', undefined] as const) {
      const f = generateConntrackCore({ era, race4, race1: 'upstream', race2: 'upstream', fullSize: false });
      const r = await detectSource(f.text, 'x.c');
      assert.equal(r.races.race4.verdict, f.expect.race4, `${era} ${race4}: ${r.races.race4.explain}`);
      if (race4 === 'old') {
        // #if 0 around the clash logic's NAT redo does not make it fixed; nor does damage
        const at = f.text.indexOf('nat_hook->manip_pkt(skb, ct, NF_NAT_MANIP_SRC');
        assert.notEqual((await detectSource(wrapLines(f.text, at, at + 5, '#if 0'), 'x.c')).races.race4.verdict, 'fixed');
      }
      if (race4 === 'fixed' && ERA_TRAITS[era].rework) {
        const withHook = structuredClone(r);
        joinNfqueue(withHook, 'nfnetlink_queue.c', scanNfqueue(generateNfqueue({ hook: true }), 'nfnetlink_queue.c'));
        assert.equal(withHook.races.race4.verdict, 'fixed');
        joinNfqueue(r, 'nfnetlink_queue.c', scanNfqueue(generateNfqueue({ hook: false }), 'nfnetlink_queue.c'));
        assert.equal(r.races.race4.verdict, 'not-applicable');
        assert.match(r.races.race4.explain, /not in this tree/);
        // a damaged hook function is unknown, never fixed
        const broken = f.text.replace('return nf_confirm_cthelper(skb, ct, ctinfo);', 'return nf_confirm_cthelper(skb, ct, ctinfo;');
        assert.equal((await detectSource(broken, 'x.c')).races.race4.verdict, 'unknown');
      }
    }
});

test('the kernel-spelled REPLY-only insert counts only with a plain &table[index] bucket, as a statement of its own', async () => {
  const gen = generateConntrackCore({ era: '6.13', race1: 'upstream', race2: 'upstream', zone: true, fullSize: false }).text;
  const ours = '__nf_conntrack_hash_insert(loser_ct, repl_idx, IP_CT_DIR_REPLY);';
  assert.ok(gen.includes(ours));
  const insert = 'hlist_nulls_add_head_rcu(&loser_ct->tuplehash[IP_CT_DIR_REPLY].hnnode,\n\t\t\t\t &nf_conntrack_hash[repl_idx]);';
  const text = gen.replace(ours, insert);
  assert.equal((await detectSource(text, 'x.c')).races.race3.verdict, 'fixed', 'the kernel spelling reads fixed');
  // the four mutants that read fixed on Debian 6.1 and 6.12 under scripts/fuzz-detect.mjs
  for (const [from, to] of [
    ['hnnode,\n', 'hnnode,*'], // *&table[i]: equivalent C, but not the shape we know (conservative)
    ['\t &nf_conntrack_hash', '\t!&nf_conntrack_hash'], // an int where a bucket pointer goes
    ['\t &nf_conntrack_hash', '\t0&nf_conntrack_hash'], // int & pointer: does not compile
    ['[repl_idx]);\n\n\tNF_CT_STAT_INC', '[repl_idx])+\n\n\tNF_CT_STAT_INC'], // joined to the next statement
  ]) {
    const at = text.indexOf(from);
    assert.ok(at > 0, from);
    const mutant = text.slice(0, at) + to + text.slice(at + from.length);
    const r = await detectSource(mutant, 'x.c');
    assert.notEqual(r.races.race3.verdict, 'fixed', `${JSON.stringify(to)}: ${r.races.race3.explain}`);
  }
});

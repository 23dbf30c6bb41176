import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateConntrackCore, NOISE_KINDS, ERAS } from '../../src/core/fixtures/generate';
import { kernelPrepass } from '../../src/core/parse/prepass';
import { locateFunctions } from '../../src/core/parse/locate';
import { indexFunctions } from '../../src/core/parse/treesitter';

test('the kernel pre-pass preserves length and every line break', () => {
  const src =
    'static __cold noinline int\nf(void) __acquires(x)\n{\n\thlist_nulls_for_each_entry(h, n, &t[i], hnnode)\n\t\tcount++;\n\treturn 0;\n}\n';
  const out = kernelPrepass(src);
  assert.equal(out.length, src.length);
  assert.deepEqual(
    [...out.matchAll(/\n/g)].map((m) => m.index),
    [...src.matchAll(/\n/g)].map((m) => m.index),
  );
  assert.doesNotMatch(out, /__cold|noinline|__acquires/);
  assert.match(out, /\twhile\s+\(h, n/);
});

test('an iterator macro inside an expression is left alone', () => {
  const src = 'static int f(void)\n{\n\tint x = list_for_each_count(a,\n\t\tb);\n\treturn x;\n}\n';
  assert.equal(kernelPrepass(src), src);
});

test('tree-sitter and the lexical locator agree on every function of every era with all noise', async () => {
  for (const era of ERAS) {
    const f = generateConntrackCore({ era, race1: 'upstream', race2: 'upstream', noise: [...NOISE_KINDS].filter((k) => k !== 'crlf') });
    const ts = await indexFunctions(f.text);
    const lex = locateFunctions(f.text);
    assert.ok(ts.length > 40, `${era}: only ${ts.length} functions`);
    assert.deepEqual(
      ts.map((x) => `${x.name}:${x.startLine}-${x.endLine}:${x.condition ?? ''}`),
      lex.map((x) => `${x.name}:${x.startLine}-${x.endLine}:${x.condition ?? ''}`),
      era,
    );
  }
});

test('functions under #ifdef/#else are both reported with their conditions', async () => {
  const src =
    '#ifdef CONFIG_A\nstatic int g(void)\n{\n\treturn 1;\n}\n#else\nstatic int g(void)\n{\n\treturn 0;\n}\n#endif\n#if defined(CONFIG_B) && CONFIG_C > 1\nint h(void)\n{\n\treturn 2;\n}\n#elif defined(CONFIG_D)\nint h(void)\n{\n\treturn 3;\n}\n#endif\n';
  const fns = await indexFunctions(src);
  assert.deepEqual(
    fns.map((f) => [f.name, f.startLine, f.endLine, f.condition]),
    [
      ['g', 2, 5, 'CONFIG_A'],
      ['g', 7, 10, '!CONFIG_A'],
      ['h', 13, 16, 'defined(CONFIG_B) && CONFIG_C > 1'],
      ['h', 18, 21, '!(defined(CONFIG_B) && CONFIG_C > 1) && defined(CONFIG_D)'],
    ],
  );
});

test('attribute macros between return type and name still give the right name', async () => {
  const src =
    'static __cold noinline int\nnf_ct_resolve_clash(struct sk_buff *skb, u32 h)\n{\n\treturn 0;\n}\nvoid __net_exit nf_conntrack_cleanup_net(struct net *net)\n{\n}\nstatic unsigned int __aligned(8) __maybe_unused counter(void)\n{\n\treturn 1;\n}\n';
  const fns = await indexFunctions(src);
  assert.deepEqual(
    fns.map((f) => [f.name, f.nameLine]),
    [
      ['nf_ct_resolve_clash', 2],
      ['nf_conntrack_cleanup_net', 6],
      ['counter', 9],
    ],
  );
});

test('a brace-less iterator macro does not swallow the rest of the file', async () => {
  const body = (n: string): string => `static void ${n}(void)\n{\n\tint cpu;\n\n\tfor_each_possible_cpu(cpu)\n\t\tdo_it(cpu);\n}\n\n`;
  const src = body('a') + body('b') + body('c');
  assert.deepEqual(
    (await indexFunctions(src)).map((f) => f.name),
    ['a', 'b', 'c'],
  );
});

test('a truncated function is reported as truncated, not as a complete body', () => {
  const f = generateConntrackCore({ era: '4.15', fullSize: false });
  const cut = f.text.slice(0, f.text.indexOf('NF_CT_STAT_INC_ATOMIC(net, found)'));
  const fns = locateFunctions(cut);
  const last = fns[fns.length - 1];
  assert.equal(last.name, 'nf_conntrack_tuple_taken');
  assert.equal(last.truncated, true);
});

test('a directive between if and else does not lose the function (lexical fill-in)', async () => {
  const src =
    'static unsigned int __cold\nhandle(int pf)\n{\n\tint r;\n\n\tif (pf == 2)\n\t\tr = one();\n#if IS_ENABLED(CONFIG_IPV6)\n\telse if (pf == 10)\n\t\tr = two();\n#endif\n\telse\n\t\treturn 1;\n\treturn r;\n}\n\nstatic int after(void)\n{\n\treturn 0;\n}\n';
  assert.deepEqual(
    (await indexFunctions(src)).map((f) => [f.name, f.nameLine, f.endLine]),
    [
      ['handle', 2, 15],
      ['after', 17, 20],
    ],
  );
});

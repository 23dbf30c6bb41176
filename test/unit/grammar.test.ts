// The conntrack-output TextMate grammar: valid JSON, every regex compiles in Oniguruma (the
// engine VS Code uses), and sample lines of -S, /proc, -L and -E get the scopes we promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

const root = path.join(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const grammarPath = path.join(root, 'syntaxes/conntrack.tmLanguage.json');
const raw = fs.readFileSync(grammarPath, 'utf8');

let onigReady: Promise<void> | undefined;
function onig(): Promise<void> {
  onigReady ??= oniguruma.loadWASM(fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer as ArrayBuffer);
  return onigReady;
}

function regexes(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => regexes(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'match' || k === 'begin' || k === 'end' || k === 'while') && typeof v === 'string') out.push(v);
      else regexes(v, out);
    }
  }
  return out;
}

async function tokenizer() {
  await onig();
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope: string) => (scope === 'source.conntrack' ? vsctm.parseRawGrammar(raw, grammarPath) : null),
  });
  const grammar = (await registry.loadGrammar('source.conntrack'))!;
  /** Scopes of the token that covers `needle` (its first character) on the line. */
  return (line: string, needle: string): string[] => {
    const at = line.indexOf(needle);
    assert.ok(at >= 0, `${needle} not in ${line}`);
    const { tokens } = grammar.tokenizeLine(line, vsctm.INITIAL);
    return tokens.find((t) => t.startIndex <= at && at < t.endIndex)!.scopes;
  };
}

test('the grammar is contributed for the conntrack-output language and is valid JSON', () => {
  const g = JSON.parse(raw);
  assert.equal(g.scopeName, 'source.conntrack');
  const contrib = pkg.contributes.grammars.find((x: { language: string }) => x.language === 'conntrack-output');
  assert.equal(path.resolve(root, contrib.path), grammarPath);
  const lang = pkg.contributes.languages.find((x: { id: string }) => x.id === 'conntrack-output');
  assert.deepEqual(lang.extensions, ['.conntrack', '.ctstat']);
  // VS Code matches firstLine with a JS RegExp.
  const first = new RegExp(lang.firstLine);
  for (const l of [
    'cpu=0   \tfound=4601 invalid=2157',
    'entries  searched found new invalid',
    'tcp      6 431999 ESTABLISHED src=10.0.0.1',
    '    [NEW] udp      17 30 src=10.0.0.1',
  ])
    assert.ok(first.test(l), l);
  assert.ok(!first.test('#include <linux/netfilter.h>'));
});

test('every regex compiles in Oniguruma and, where the syntax allows, as a JS RegExp', async () => {
  await onig();
  const all = regexes(JSON.parse(raw));
  assert.ok(all.length > 20);
  for (const r of all) {
    assert.doesNotThrow(() => new oniguruma.OnigScanner([r]).dispose(), r);
    assert.doesNotThrow(() => new RegExp(r), r);
  }
});

test('conntrack -S: cpu rows, loss counters emphasised (red when non-zero), clash_resolve green', async () => {
  const scopes = await tokenizer();
  const old = 'cpu=1   \tfound=7545 invalid=3952 ignore=0 insert=0 insert_failed=175 drop=175 early_drop=0 error=0 search_restart=159';
  assert.ok(scopes(old, 'cpu').includes('entity.name.section.cpu.conntrack'));
  assert.ok(scopes(old, 'insert_failed').includes('keyword.other.counter.loss.conntrack markup.bold.conntrack'.split(' ')[0]));
  assert.ok(
    scopes(old, '175 drop').some((s) => s.startsWith('markup.deleted')),
    'non-zero insert_failed is red',
  );
  assert.ok(
    scopes(old, '0 error').some((s) => s.startsWith('constant.numeric.zero')),
    'early_drop=0 is not',
  );
  assert.ok(scopes(old, 'found').includes('variable.other.counter.conntrack'));
  const neu =
    'cpu=0 found=0 invalid=12 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=3 chaintoolong=0';
  assert.ok(scopes(neu, '3 chaintoolong').some((s) => s.startsWith('markup.inserted')));
});

test('/proc/net/stat/nf_conntrack header and hex rows', async () => {
  const scopes = await tokenizer();
  const head = 'entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error';
  assert.ok(scopes(head, 'insert_failed').includes('keyword.other.counter.loss.conntrack'));
  assert.ok(scopes(head, 'searched').includes('entity.name.tag.column.conntrack'));
  assert.ok(scopes('0000002a  00000000 00000010 00000000', '00000010').includes('constant.numeric.hex.conntrack'));
});

test('conntrack -L and -E: protocol, state, tuples, flags, mark/use/zone, events', async () => {
  const scopes = await tokenizer();
  const l =
    'tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=51234 dport=443 src=10.0.0.2 dst=10.0.0.1 sport=443 dport=51234 [ASSURED] mark=0 zone=3 use=1';
  assert.ok(scopes(l, 'tcp').includes('storage.type.proto.conntrack'));
  assert.ok(scopes(l, '431999').includes('constant.numeric.timeout.conntrack'));
  assert.ok(scopes(l, 'ESTABLISHED').includes('constant.language.state.conntrack'));
  assert.ok(scopes(l, 'src=').includes('variable.parameter.address.conntrack'));
  assert.ok(scopes(l, '10.0.0.2').includes('string.unquoted.address.conntrack'));
  assert.ok(scopes(l, '51234').includes('constant.numeric.port.conntrack'));
  assert.ok(scopes(l, 'ASSURED').includes('constant.language.flag.conntrack'));
  for (const f of ['mark', 'zone', 'use']) assert.ok(scopes(l, `${f}=`).includes('support.type.property-name.conntrack'), f);
  const u =
    'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=40000 dport=53 [UNREPLIED] src=10.96.0.10 dst=10.244.1.5 sport=53 dport=40000 mark=0 use=1';
  assert.ok(scopes(u, 'UNREPLIED').includes('markup.changed.flag.unreplied.conntrack'));
  const tw = 'tcp      6 117 TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2';
  assert.ok(scopes(tw, 'TIME_WAIT').includes('constant.language.state.conntrack'));
  assert.ok(scopes('    [NEW] udp      17 30 src=10.0.0.1', 'NEW').includes('markup.inserted.event.conntrack'));
  assert.ok(scopes(' [UPDATE] tcp      6 60 SYN_RECV src=10.0.0.1', 'UPDATE').includes('markup.changed.event.conntrack'));
  assert.ok(scopes('[DESTROY] tcp      6 src=10.0.0.1', 'DESTROY').includes('markup.deleted.event.conntrack'));
});

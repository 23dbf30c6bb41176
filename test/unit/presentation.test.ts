import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectText } from '../../src/core/detect';
import { generateConntrackCore, FixtureSpec } from '../../src/core/fixtures/generate';
import type { DetectionResult, RaceVerdict } from '../../src/core/types';
import { CMD } from '../../src/ids';
import {
  diagnosticPlan,
  evidencePickRows,
  hunkPickRows,
  lensPlan,
  raceIds,
  raceTitle,
  relativizePaths,
  scenarioFor,
  summarize,
  VERDICT_ICON,
} from '../../src/detection/presentation';

const FILE = '/ws/net/netfilter/nf_conntrack_core.c';
const detect = async (spec: FixtureSpec): Promise<DetectionResult> =>
  detectText(generateConntrackCore({ fullSize: false, ...spec }).text, FILE);
const titles = (r: DetectionResult, fn: string): string[] =>
  lensPlan(r, 'file:///x')
    .filter((g) => g.function === fn)
    .flatMap((g) => g.items.map((i) => i.title));
const v = (verdict: RaceVerdict['verdict'], extra: Partial<RaceVerdict> = {}): RaceVerdict => ({
  verdict,
  variant: null,
  evidence: [],
  explain: 'x',
  ...extra,
});

test('each verdict has its own icon; the three look-again verdicts differ from fixed and missing', () => {
  const icons = Object.values(VERDICT_ICON);
  assert.equal(new Set(icons).size, icons.length);
  assert.equal(raceTitle('race1', v('fixed', { variant: 'ed07d9a021df' })), '$(pass) Race 1: fixed — ed07d9a021df');
  assert.equal(raceTitle('race2', v('missing')), '$(error) Race 2: missing — packets drop');
  assert.match(raceTitle('race1', v('partial', { variant: 'ed07d9a021df' })), /^\$\(warning\) Race 1: PARTIAL/);
  assert.match(raceTitle('race1', v('unknown')), /^\$\(question\) Race 1: unknown/);
  assert.equal(raceTitle('race1', v('conditional', { condition: 'CONFIG_X' })), '$(git-compare) Race 1: conditional on CONFIG_X');
  assert.match(raceTitle('race2', v('missing', { disagreement: 'lost in a merge' })), /history disagrees$/);
});

test('4.15 without fixes: race 1 and race 2 missing above the resolver and tuple_taken, with actions', async () => {
  const r = await detect({ era: '4.15' });
  assert.deepEqual(titles(r, 'nf_ct_resolve_clash'), [
    '$(error) Race 1: missing — packets drop',
    '$(error) Race 3: missing — packets drop',
    'Show evidence',
    'Plan backport',
    'Simulate',
  ]);
  assert.deepEqual(titles(r, 'nf_conntrack_tuple_taken'), [
    '$(error) Race 2: missing — packets drop',
    'Show evidence',
    'Plan backport',
    'Simulate',
  ]);
  assert.deepEqual(titles(r, '__nf_conntrack_confirm'), ['$(shield) Clash path: R1 ✗ R2 ✗ R3 ✗ R4 –', 'Show evidence']);
  const ev = lensPlan(r, 'file:///x')
    .find((g) => g.function === 'nf_conntrack_tuple_taken')!
    .items.find((i) => i.title === 'Show evidence')!;
  assert.deepEqual([ev.command, ev.args], [CMD.showEvidence, ['race2', undefined, 'file:///x']]);
});

test('4.15 upstream fixes: fixed with commit ids, no plan action, nf_ct_match gets a lens', async () => {
  const r = await detect({ era: '4.15', race1: 'upstream', race2: 'upstream' });
  assert.deepEqual(titles(r, 'nf_ct_resolve_clash').slice(0, 2), [
    '$(pass) Race 1: fixed — ed07d9a021df',
    '$(error) Race 3: missing — packets drop',
  ]);
  assert.ok(!titles(r, 'nf_ct_resolve_clash').includes('Plan backport'));
  assert.equal(titles(r, 'nf_conntrack_tuple_taken')[0], '$(pass) Race 2: fixed — 4e35c1cb9460');
  assert.deepEqual(titles(r, 'nf_ct_match'), ['$(pass) Race 1: fixed — ed07d9a021df', 'Show evidence']);
});

test('helper only: PARTIAL; conditional: each #if copy says what it does', async () => {
  const p = await detect({ era: '4.15', race1: 'helper-only' });
  assert.match(titles(p, 'nf_ct_resolve_clash')[0], /^\$\(warning\) Race 1: PARTIAL/);
  const c = await detect({ era: '4.15', race1: 'conditional' });
  const copies = lensPlan(c, 'u')
    .filter((g) => g.function === 'nf_ct_resolve_clash')
    .map((g) => g.items[0].title);
  assert.deepEqual(copies, [
    '$(git-compare) Race 1: conditional — fixed under CONFIG_NF_CONNTRACK_CLASH_MATCH',
    '$(git-compare) Race 1: conditional — missing under !CONFIG_NF_CONNTRACK_CLASH_MATCH',
  ]);
});

test('5.10 rework: race 1 on __nf_ct_resolve_clash, race 3 on the resolver and clash_harder', async () => {
  const r = await detect({ era: '5.10', race2: 'upstream' });
  assert.equal(titles(r, '__nf_ct_resolve_clash')[0], '$(pass) Race 1: fixed — superseded by the 2020 rework');
  assert.equal(titles(r, 'nf_ct_resolve_clash')[0], '$(pass) Race 3: fixed — by the 2020 rework');
  assert.equal(titles(r, 'nf_ct_resolve_clash_harder')[0], '$(pass) Race 3: fixed — by the 2020 rework');
  assert.deepEqual(summarize(r), { ...summarize(r), text: '$(shield) conntrack: R1 ✓ R2 ✓ R3 ✓ R4 –', level: 'ok' });
});

test('status level: races 1/2 missing is an error, race 3 alone a warning', async () => {
  assert.equal(summarize(await detect({ era: '4.15' })).level, 'error');
  const sru = summarize(await detect({ era: '4.15', race1: 'upstream', race2: 'upstream' }));
  assert.equal(sru.text, '$(shield) conntrack: R1 ✓ R2 ✓ R3 ✗ R4 –');
  assert.equal(sru.level, 'warning');
  assert.equal(
    summarize(await detect({ era: '4.15', race1: 'helper-only', race2: 'upstream' })).text,
    '$(shield) conntrack: R1 ◐ R2 ✓ R3 ✗ R4 –',
  );
});

test('diagnostics: a warning on the unfixed merge condition, information on fix sites, helpers on their name line', async () => {
  const r = await detect({ era: '4.15', race1: 'helper-only' });
  const d = diagnosticPlan(r, FILE);
  const warn = d.find((x) => x.race === 'race1' && x.severity === 'warning')!;
  const site = r.races.race1.evidence.find((e) => !e.supports)!;
  assert.deepEqual([warn.startLine, warn.endLine, warn.code], [site.startLine, site.endLine, 'race1.resolver-nat-blocks-merge']);
  assert.match(warn.message, /^Race 1 drops here/);
  const info = d.find((x) => x.race === 'race1' && x.severity === 'information')!;
  assert.equal(info.startLine, r.functions.nf_ct_match.nameLine);
  assert.equal(info.endLine, info.startLine);
  assert.deepEqual(diagnosticPlan(r, '/elsewhere.c'), []);
});

test('a file that is not nf_conntrack_core.c gets one explaining lens and no diagnostics', async () => {
  const r = await detectText('int main(void) { return 0; }\n', '/tmp/x.c');
  const plan = lensPlan(r, 'u');
  if (!r.kernelFile) {
    assert.equal(plan.length, 1);
    assert.match(plan[0].items[0].title, /not analysed/);
    assert.deepEqual(diagnosticPlan(r, '/tmp/x.c'), []);
  } else assert.ok(plan.every((g) => g.function));
});

test('evidence and hunk rows', async () => {
  const r = await detect({ era: '4.15', race1: 'upstream' });
  const rows = evidencePickRows(r.races.race1);
  assert.equal(rows.length, r.races.race1.evidence.length);
  assert.match(rows[0].label, /^\$\(check\) nf_ct_resolve_clash\(\) lines \d+-\d+$/);
  const partial = (await detect({ era: '4.15', race1: 'helper-only' })).races.race1;
  const prow = evidencePickRows(partial);
  assert.match(prow[0].label, /^\$\(x\) nf_ct_resolve_clash/, 'the drop site first');
  assert.equal(partial.evidence[prow[0].value].supports, false);
  const hunks = hunkPickRows([
    {
      subject: 's',
      overall: 'partially-applied',
      explain: '',
      files: [
        {
          path: 'net/netfilter/nf_conntrack_core.c',
          present: true,
          hunks: [
            { index: 1, header: '', function: 'nf_ct_resolve_clash', state: 'applied', line: 183, reason: 'r' },
            { index: 2, header: '', state: 'conflicting', reason: 'r' },
          ],
        },
        { path: 'include/x.h', present: false, hunks: [] },
      ],
    },
  ]);
  assert.deepEqual(
    hunks.map((h) => h.label),
    ['$(check) hunk 1: applied', '$(warning) hunk 2: conflicting', '$(question) include/x.h: not in this tree'],
  );
  assert.equal(hunks[0].description, 'nf_conntrack_core.c · nf_ct_resolve_clash() · line 183');
  assert.deepEqual(hunks[0].value, { file: 'net/netfilter/nf_conntrack_core.c', line: 183 });
});

test('reports name files relative to the tree root', async () => {
  const r = await detect({ era: '4.15' });
  const rel = relativizePaths(r, '/ws');
  assert.equal(rel.file, 'net/netfilter/nf_conntrack_core.c');
  assert.ok(rel.races.race1.evidence.every((e) => e.file === 'net/netfilter/nf_conntrack_core.c'));
  assert.equal(r.file, FILE, 'the original is untouched');
  assert.equal(relativizePaths(r, '/other').file, FILE);
});

test('line 1 carries every race of the result and Show report', async () => {
  const r = await detect({ era: '4.15', race1: 'upstream' });
  const top = lensPlan(r, 'u')[0];
  assert.equal(top.line, 1);
  assert.deepEqual(
    top.items.map((i) => i.title),
    [
      '$(pass) Race 1 fixed',
      '$(error) Race 2 missing',
      '$(error) Race 3 missing',
      '$(circle-slash) Race 4 not in this tree',
      'Show report',
    ],
  );
  assert.deepEqual(top.items[0].args, ['race1', undefined, 'u']);
  assert.ok(raceIds(r).length >= 3);
});

test('a missing race 3 (no drop line of its own) still gets a Problems warning where the clash is resolved', async () => {
  const r = await detect({ era: '4.15', race1: 'upstream', race2: 'upstream' });
  assert.equal(r.races.race3.verdict, 'missing');
  const w = diagnosticPlan(r, FILE).filter((d) => d.race === 'race3' && d.severity === 'warning');
  assert.equal(w.length, 1);
  assert.equal(w[0].startLine, r.functions.nf_ct_resolve_clash.nameLine);
  assert.match(w[0].message, /^Race 3 drops here/);
  const fixed = await detect({ era: '5.10', race2: 'upstream' });
  assert.deepEqual(
    diagnosticPlan(fixed, FILE).filter((d) => d.race === 'race3' && d.severity === 'warning'),
    [],
  );
});

test('Simulate on a race-3 lens opens the Service-VIP (DNAT) scenario, race 1/2 the SNAT one', async () => {
  const r = await detect({ era: '4.15' });
  const sim = (fn: string) =>
    lensPlan(r, 'u')
      .find((g) => g.function === fn)!
      .items.find((i) => i.title === 'Simulate')!.args[0] as { race: string; scenario: string };
  assert.deepEqual([sim('nf_ct_resolve_clash').race, sim('nf_ct_resolve_clash').scenario], ['race3', 'dns-vip']);
  assert.equal(sim('nf_conntrack_tuple_taken').scenario, 'dns-snat');
  assert.equal(scenarioFor('race1'), 'dns-snat');
});

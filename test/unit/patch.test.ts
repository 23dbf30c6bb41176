// "Is this patch applied here?" with patches made by real git (format-patch), checked against
// files that drifted: offsets, reflowed whitespace, moved functions, partial backports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateConntrackCore, FixtureSpec } from '../../src/core/fixtures/generate';
import { checkPatchText } from '../../src/core/patch/applied';
import { parsePatchFile } from '../../src/core/patch/mbox';
import { commitAll, git, initRepo, tmpDir, writeFile } from './helpers';

const CORE = 'net/netfilter/nf_conntrack_core.c';

/** A format-patch mail turning `from` into `to`. */
function formatPatch(from: FixtureSpec, to: FixtureSpec, subject: string): string {
  const d = tmpDir();
  initRepo(d);
  writeFile(d, CORE, generateConntrackCore({ ...from, fullSize: false }).text);
  commitAll(d, 'base');
  writeFile(d, CORE, generateConntrackCore({ ...to, fullSize: false }).text);
  commitAll(d, `${subject}\n\nSigned-off-by: Test <t@example.com>`);
  return git(d, 'format-patch', '-1', '--stdout');
}

const race1Patch = formatPatch(
  { era: '4.15' },
  { era: '4.15', race1: 'upstream' },
  'netfilter: nf_conntrack: resolve clash for matching conntracks',
);
const race2Patch = formatPatch(
  { era: '4.15' },
  { era: '4.15', race2: 'upstream' },
  'netfilter: nf_nat: skip nat clash resolution for same-origin entries',
);

const check = (patch: string, spec: FixtureSpec) =>
  checkPatchText(patch, (p) => (p === CORE ? generateConntrackCore({ fullSize: false, ...spec }).text : null))[0];

test('format-patch mail is parsed: subject, one file, hunk sections name functions', () => {
  const [m] = parsePatchFile(race1Patch);
  assert.equal(m.subject, 'netfilter: nf_conntrack: resolve clash for matching conntracks');
  assert.equal(m.files.length, 1);
  assert.ok(m.files[0].hunks.length >= 2);
});

test('applied on the fixed file, not applied on the base', () => {
  assert.equal(check(race1Patch, { era: '4.15', race1: 'upstream' }).overall, 'applied');
  assert.equal(check(race1Patch, { era: '4.15' }).overall, 'not-applied');
  assert.equal(check(race2Patch, { era: '4.15', race2: 'upstream' }).overall, 'applied');
  assert.equal(check(race2Patch, { era: '4.15' }).overall, 'not-applied');
});

test('robust to another era, vendor noise, moved functions and reflowed whitespace', () => {
  for (const noise of [['vendor'], ['moved'], ['reflow'], ['vendor', 'moved', 'reflow', 'ifdef']] as const) {
    assert.equal(
      check(race1Patch, { era: '4.19', race1: 'upstream', noise: [...noise], fullSize: true }).overall,
      'applied',
      `applied with ${noise}`,
    );
    assert.equal(
      check(race1Patch, { era: '4.14', race1: 'none', noise: [...noise], fullSize: true }).overall,
      'not-applied',
      `not applied with ${noise}`,
    );
    assert.equal(check(race2Patch, { era: '5.0', race2: 'upstream', noise: [...noise] }).overall, 'applied', `race2 applied with ${noise}`);
  }
});

test('a partial backport is partially applied, hunk by hunk', () => {
  const r = check(race1Patch, { era: '4.15', race1: 'helper-only' });
  assert.equal(r.overall, 'partially-applied');
  const states = r.files[0].hunks.map((h) => h.state);
  assert.ok(states.includes('applied') && states.includes('not-applied'), JSON.stringify(r.files[0].hunks));
});

test('hunks on code that changed beyond the patch are conflicting', () => {
  // the 2020 rework rewrote the resolver: the race-1 resolver hunk cannot be found either way
  const r = check(race1Patch, { era: '5.10' });
  assert.ok(r.files[0].hunks.some((h) => h.state === 'conflicting' || h.state === 'applied'));
  assert.notEqual(r.overall, 'not-applied');
});

test('a file the patch touches but the tree lacks is named', () => {
  const r = checkPatchText(race1Patch, () => null)[0];
  assert.equal(r.overall, 'not-applicable');
  assert.match(r.explain, /not in this tree: net\/netfilter\/nf_conntrack_core\.c/);
});

test('an mbox with two patches gives two reports; garbage gives a clear message', () => {
  const reports = checkPatchText(race1Patch + '\n' + race2Patch, (p) =>
    p === CORE ? generateConntrackCore({ era: '4.15', race1: 'upstream', fullSize: false }).text : null,
  );
  assert.deepEqual(
    reports.map((r) => r.overall),
    ['applied', 'not-applied'],
  );
  assert.match(checkPatchText('just words\n', () => null)[0].explain, /no diff found/);
});

test('a supplied azure 952939 patch decides race 2 through the patch layer', async () => {
  const { joinPatchReports } = await import('../../src/core/patch/join');
  const { detectSource } = await import('../../src/core/detect/source');
  const { generateNatCore } = await import('../../src/core/fixtures/generate');
  // A patch of the project's own making on the NAT side, carrying the posting's subject.
  const d = tmpDir();
  initRepo(d);
  writeFile(d, 'net/netfilter/nf_nat_core.c', generateNatCore({ azure952939: false }));
  commitAll(d, 'base');
  writeFile(d, 'net/netfilter/nf_nat_core.c', generateNatCore({ azure952939: true }));
  commitAll(d, 'netfilter: nf_nat: return the same reply tuple for matching CTs');
  const mail = git(d, 'format-patch', '-1', '--stdout');
  const core = generateConntrackCore({ era: '4.15', race1: 'upstream', fullSize: false }).text;
  const tree = (azure: boolean) => (p: string) =>
    p === CORE ? core : p === 'net/netfilter/nf_nat_core.c' ? generateNatCore({ azure952939: azure }) : null;

  const before = await detectSource(core, CORE);
  joinPatchReports(before, '952939.patch', checkPatchText(mail, tree(false)));
  assert.equal(before.races.race2.verdict, 'missing', 'not applied here: nothing changes');
  assert.equal(before.races.race2.evidence.find((e) => e.layer === 'patch')?.supports, false);

  const after = await detectSource(core, CORE);
  joinPatchReports(after, '952939.patch', checkPatchText(mail, tree(true)));
  assert.equal(after.races.race2.verdict, 'fixed');
  assert.equal(after.races.race2.variant, 'azure-952939');
  assert.equal(after.races.race2.decidedBy, 'patch');
  assert.match(after.races.race2.explain, /revert it before picking the upstream fix/);
});

// The report and the editor's evidence texts in a kernel engineer's words: no signature ids,
// no raw booleans, matched code quoted with its indentation; every signature has words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectText } from '../../src/core/detect';
import { SIGNATURES } from '../../src/core/detect/signatures';
import { generateConntrackCore, FixtureSpec } from '../../src/core/fixtures/generate';
import { codeLines, formatDetection, siteWords, verdictWords } from '../../src/core/report';
import { RACES } from '../../src/core/types';
import type { DetectionResult } from '../../src/core/types';
import { diagnosticPlan, evidencePickRows, racePickRows, summarize } from '../../src/detection/presentation';

const FILE = '/ws/net/netfilter/nf_conntrack_core.c';
const SPECS: FixtureSpec[] = [
  { era: '4.15' },
  { era: '4.15', race1: 'upstream', race2: 'azure-952939' },
  { era: '4.15', race1: 'helper-only' },
  { era: '4.19', race1: 'upstream', race2: 'upstream', zone: true },
  { era: '5.10', race2: 'upstream', zone: true },
];
/** An internal id: a signature (race2.gated-same-origin-skip, rework.clash-harder) or a catalogue key. */
const INTERNAL_ID = /\b(?:race\d|rework|reverse|nat)\.[a-z][a-z-]+\b|\bazure-9\d{5}\b|\brework-2020\b|\breverse-2024\b/;
const BOOLEAN = /:\s*(?:true|false)\b/;

async function detect(spec: FixtureSpec): Promise<{ r: DetectionResult; lines: string[] }> {
  const text = generateConntrackCore({ fullSize: false, ...spec }).text;
  return { r: await detectText(text, FILE), lines: text.split('\n') };
}

test('every signature id reads as words', () => {
  for (const s of SIGNATURES) {
    const w = siteWords({ layer: 'source', file: FILE, site: `${s.id}: x->y`, supports: true });
    assert.equal(w.what, s.describe, s.id);
    assert.doesNotMatch(w.what, new RegExp(`^${s.id.replace('.', '\\.')}`));
  }
});

for (const spec of SPECS) {
  test(`report and editor texts carry no internal ids or booleans (${JSON.stringify(spec)})`, async () => {
    const { r, lines } = await detect(spec);
    const md = formatDetection(r, 'markdown', { readLines: (f) => (f === FILE ? lines : undefined) });
    // The detector's own explanations are quoted as they are; everything we write around them is checked.
    let ours = md;
    for (const race of RACES) ours = ours.split(r.races[race].explain).join('');
    assert.doesNotMatch(ours, INTERNAL_ID);
    assert.doesNotMatch(md, BOOLEAN);
    const texts = [
      ...diagnosticPlan(r, FILE).map((d) => d.message.replace(r.races[d.race].explain, '')),
      ...racePickRows(r).map((row) => `${row.label} ${row.description}`),
      ...RACES.flatMap((race) => evidencePickRows(r.races[race]).map((row) => `${row.label} ${row.description} ${row.detail}`)),
      summarize(r).text,
    ];
    for (const t of texts) assert.doesNotMatch(t, INTERNAL_ID, t);
  });
}

test('matched code is quoted as it stands in the file: indentation kept, common indent removed', async () => {
  const { r, lines } = await detect({ era: '4.19', race1: 'upstream', race2: 'upstream' });
  const e = r.races.race2.evidence.find((x) => x.layer === 'source' && x.startLine !== undefined && siteWords(x).fragment)!;
  const code = codeLines(e, (f) => (f === FILE ? lines : undefined))!;
  const original = lines.slice(e.startLine! - 1, e.endLine!);
  assert.equal(code.length, original.length);
  // The same text with the same relative indentation (the detector's fragment has no blanks at all).
  const indent = (l: string) => /^[\t ]*/.exec(l)![0].length;
  const base = Math.min(...original.map(indent));
  assert.deepEqual(
    code,
    original.map((l) => l.slice(base).trimEnd()),
  );
  assert.ok(
    code.some((l) => /\s/.test(l.trim())),
    'blanks inside the code are kept',
  );
  const md = formatDetection(r, 'markdown', { readLines: (f) => (f === FILE ? lines : undefined) });
  assert.ok(md.includes(code.map((l) => `  ${l}`).join('\n')), 'the report quotes the lines');
  // Unreadable file: the fragment stands in, never a crash.
  assert.equal(
    codeLines(e, () => undefined),
    undefined,
  );
});

test('other findings and verdicts in words', async () => {
  const { r } = await detect({ era: '4.19', race1: 'upstream', race2: 'upstream', zone: true });
  const md = formatDetection(r, 'markdown');
  assert.match(md, /Zone follow-up 07998281c268 .*: present/);
  assert.match(md, /2020 clash-resolution rework .*: not present/);
  assert.equal(verdictWords(r.races.race3, 'race3'), 'missing: packets drop');
  const rework = await detect({ era: '5.10', race2: 'upstream', zone: true });
  assert.equal(verdictWords(rework.r.races.race3, 'race3'), 'fixed by the 2020 rework');
  assert.equal(verdictWords(rework.r.races.race1, 'race1'), 'fixed (superseded by the 2020 rework)');
});

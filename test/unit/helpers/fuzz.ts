// Mutation fuzzing of nf_conntrack_core.c text against its fix-site spans: a mutant that
// destroyed a fix site must never read "fixed" for that race, and no mutant may crash the
// detector. Used by test/unit/robust.test.ts (a seeded random sample of generated files) and by
// scripts/fuzz-detect.mjs (every mutant of a fixed mutation space, on real kernel files too).

import { detectBuffer } from '../../../src/core/detect';
import { fixSiteSpans, Span } from '../../../src/core/fixtures/generate';
import { Rng } from '../../../src/core/fixtures/rng';
import type { DetectionResult, RaceId, Verdict } from '../../../src/core/types';

export type FuzzRace = 'race1' | 'race2' | 'race3' | 'race4';
export const FUZZ_RACES: FuzzRace[] = ['race1', 'race2', 'race3', 'race4'];

export interface Mutant {
  kind: string;
  text: string;
  /** Whether this mutation destroyed the span (a fix site of the unmutated text). */
  destroys(sp: Span): boolean;
}

const PP_LINES = ['#if 0', '#endif', '#else', '#ifdef CONFIG_FUZZ', '#define FUZZ 1', '#undef FUZZ', '#if 0 && CONFIG_FUZZ'];
const isWs = (c: string): boolean => /\s/.test(c);

/** Line start offsets of `t` (one per line, the last line may be empty). */
function lineStarts(t: string): number[] {
  const out = [0];
  for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

function deleteLines(t: string, starts: number[], li: number, n: number): Mutant {
  const a = starts[li];
  const b = li + n < starts.length ? starts[li + n] : t.length;
  return {
    kind: n === 1 ? `delete line ${li + 1}` : `delete lines ${li + 1}-${li + n}`,
    text: t.slice(0, a) + t.slice(b),
    destroys: (sp) => a < sp.end && b > sp.start && /\S/.test(t.slice(Math.max(a, sp.start), Math.min(b, sp.end))),
  };
}

function flipBit(t: string, o: number, bit: number): Mutant {
  const old = t[o];
  const code = (t.charCodeAt(o) ^ bit) & 0xff;
  const neu = String.fromCharCode(code);
  return {
    kind: `flip bit ${bit} at ${o}`,
    text: t.slice(0, o) + neu + t.slice(o + 1),
    destroys: (sp) => o >= sp.start && o < sp.end && !(isWs(old) && isWs(neu)),
  };
}

function insertPp(t: string, starts: number[], li: number, pp: string): Mutant {
  const at = starts[li];
  // An unterminated #if 0 kills everything after it; the other lines change no fix site alone.
  return {
    kind: `insert "${pp}" before line ${li + 1}`,
    text: `${t.slice(0, at)}${pp}\n${t.slice(at)}`,
    destroys: (sp) => pp.startsWith('#if 0') && at <= sp.start,
  };
}

function truncate(t: string, o: number): Mutant {
  return { kind: `truncate at ${o}`, text: t.slice(0, o), destroys: (sp) => o < sp.end };
}

/** One seeded random mutant; most aim at a fix site. */
export function randomMutant(rng: Rng, t: string, spans: Span[]): Mutant {
  const pickOff = (): number => {
    if (!spans.length || rng.next() < 0.4) return rng.int(t.length);
    const sp = spans[rng.int(spans.length)];
    return sp.start + rng.int(sp.end - sp.start);
  };
  const starts = lineStarts(t);
  const lineOf = (o: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const k = rng.int(4);
  if (k === 0) return deleteLines(t, starts, lineOf(pickOff()), 1 + (rng.next() < 0.3 ? rng.int(4) : 0));
  if (k === 1) return flipBit(t, pickOff(), 1 << rng.int(8));
  if (k === 2) return insertPp(t, starts, lineOf(pickOff()), PP_LINES[rng.int(PP_LINES.length)]);
  return truncate(t, pickOff());
}

/**
 * Every mutant of a fixed space around the fix sites: each single line and each run of 2-4
 * lines deleted where it touches a site, each bit of each byte of every site flipped, each
 * preprocessor line inserted before each line from 3 lines above a site to its end, and a
 * truncation at each line start up to the last site plus inside each site.
 */
export function* allMutants(t: string, spans: Span[]): Generator<Mutant> {
  const starts = lineStarts(t);
  const lineOf = (o: number): number => {
    let li = 0;
    while (li + 1 < starts.length && starts[li + 1] <= o) li++;
    return li;
  };
  const siteLines = new Set<number>();
  for (const sp of spans) for (let li = lineOf(sp.start); li <= lineOf(Math.max(sp.start, sp.end - 1)); li++) siteLines.add(li);
  const lines = [...siteLines].sort((a, b) => a - b);
  for (const li of lines) for (let n = 1; n <= 4; n++) if (li - n + 1 >= 0) yield deleteLines(t, starts, li - n + 1, n);
  const offs = new Set<number>();
  for (const sp of spans) for (let o = sp.start; o < sp.end; o++) offs.add(o);
  for (const o of [...offs].sort((a, b) => a - b)) for (let b = 0; b < 8; b++) yield flipBit(t, o, 1 << b);
  const ppLines = new Set<number>();
  for (const li of lines) for (let d = -3; d <= 0; d++) if (li + d >= 0) ppLines.add(li + d);
  for (const li of [...ppLines].sort((a, b) => a - b)) for (const pp of PP_LINES) yield insertPp(t, starts, li, pp);
  const last = Math.max(0, ...spans.map((s) => s.end));
  for (const s of starts) if (s < last) yield truncate(t, s);
  for (const sp of spans) for (let o = sp.start + 1; o < sp.end; o += 7) yield truncate(t, o);
}

export interface FuzzTally {
  mutants: number;
  crashes: number;
  /** (mutant, race) pairs whose fix site the mutant destroyed. */
  destroyed: number;
  byVerdict: Record<string, number>;
  failures: string[];
}

export const newTally = (): FuzzTally => ({ mutants: 0, crashes: 0, destroyed: 0, byVerdict: {}, failures: [] });

/**
 * Detects one mutant and records what it read for every race whose site it destroyed. Races
 * in `notFixed` (the unmutated file does not read fixed for them) must not read fixed at all.
 */
export async function checkMutant(
  label: string,
  m: Mutant,
  spans: Record<FuzzRace, Span[]>,
  into: FuzzTally,
  notFixed: readonly FuzzRace[] = [],
): Promise<void> {
  into.mutants++;
  let r: DetectionResult;
  try {
    r = await detectBuffer(Buffer.from(m.text, 'latin1'), 'nf_conntrack_core.c');
  } catch (e) {
    into.crashes++;
    into.failures.push(`${label} ${m.kind}: crash ${(e as Error).message}`);
    return;
  }
  for (const race of notFixed)
    if (r.races[race].verdict === 'fixed') into.failures.push(`${label} ${m.kind}: ${race} fixed although the unmutated file is not`);
  for (const race of FUZZ_RACES) {
    const hit = spans[race].find((sp) => m.destroys(sp));
    if (!hit) continue;
    into.destroyed++;
    const v: Verdict = r.races[race as RaceId].verdict;
    into.byVerdict[v] = (into.byVerdict[v] ?? 0) + 1;
    if (v === 'fixed') into.failures.push(`${label} ${m.kind}: ${race} fixed although ${hit.what} was destroyed`);
  }
}

/**
 * Where an unfixed file keeps its old shapes (the merge test NAT blocks, tuple_taken's
 * key-equal hit): mutation targets for files with no fix site.
 */
export function unfixedSpans(text: string): Span[] {
  const find = (what: string, re: RegExp): Span[] =>
    [...text.matchAll(new RegExp(re.source, 'g'))].map((m) => ({ start: m.index!, end: m.index! + m[0].length, what }));
  return [
    ...find('merge test (NAT not done &&)', /\(\(ct->status & IPS_NAT_DONE_MASK\) == 0\) &&/),
    ...find('tuple_taken key-equal hit', /if \(nf_ct_key_equal\(h, tuple, zone, net\)\) \{\s+NF_CT_STAT_INC_ATOMIC\(net, found\);/),
  ];
}

/** The spans of `text` per race (fixSiteSpans), all races together. */
export function spansOf(text: string): { byRace: Record<FuzzRace, Span[]>; all: Span[] } {
  const byRace = fixSiteSpans(text);
  return { byRace, all: FUZZ_RACES.flatMap((r) => byRace[r]) };
}

// Human renderings of a detection result: terminal text and Markdown (the editor's report and
// the exported one). Written for a kernel engineer who has not read our source: no signature
// ids, no raw booleans, matched code as it stands in the file (indentation kept) when the
// caller can read the file.

import { signature } from './detect/signatures';
import { RACES } from './types';
import type { DetectionResult, Evidence, FeatureFinding, RaceId, RaceVerdict, Verdict } from './types';

const RACE_TITLES: Record<string, string> = {
  race1: 'Race 1 — identical tuples, NAT done (ed07d9a021df)',
  race2: 'Race 2 — SNAT picks another port for a same-origin entry (4e35c1cb9460)',
  race3: 'Race 3 — DNAT to different endpoints (2020 rework, 6a757c07e51f)',
  race4: 'Race 4 — nfqueue redoes NAT against a clashing entry on reinject (2024, 8af79d3edb5f)',
};

/** The upstream commit that closes each race (the Problems entry's code). */
export const RACE_FIX_COMMIT: Record<RaceId, string> = {
  race1: 'ed07d9a021df',
  race2: '4e35c1cb9460',
  race3: '6a757c07e51f',
  race4: '8af79d3edb5f',
};

const VARIANT_WORDS: Record<string, string> = {
  'azure-937963': 'azure 937963 (pre-upstream; the SRU reverts it and picks ed07d9a021df)',
  'azure-952939': 'azure 952939 (pre-upstream; the SRU reverts it and picks 4e35c1cb9460)',
  'rework-2020': 'the 2020 rework (6a757c07e51f)',
  'reverse-2024': 'nf_ct_can_merge (2024)',
  'nfqueue-2024': '8af79d3edb5f (nfqueue clash logic removed)',
};

const variantText = (v: string | null | undefined): string => (v ? (VARIANT_WORDS[v] ?? v) : '');

/** Verdicts in words; `raceId` lets race 3's own fix read "by the 2020 rework". */
export function verdictWords(v: RaceVerdict, race?: RaceId): string {
  const by = variantText(v.variant);
  switch (v.verdict as Verdict) {
    case 'fixed':
      if (v.variant === 'rework-2020') return race === 'race3' ? 'fixed by the 2020 rework' : 'fixed (superseded by the 2020 rework)';
      return by ? `fixed by ${by}` : 'fixed';
    case 'missing':
      return 'missing: packets drop';
    case 'partial':
      return `partial: only some sites of ${by || 'the fix'}`;
    case 'conditional':
      return `depends on #if ${v.condition ?? 'a preprocessor branch'}`;
    case 'not-applicable':
      return 'not in this tree';
    default:
      return 'unknown: the code has a shape we do not recognise, check by hand';
  }
}

const LAYER_WORDS: Record<string, string> = { source: 'the code', history: 'git history', patch: 'the patch check' };

/** Ids our own findings use that are not signatures (their text after the id is a sentence). */
const SENTENCE_IDS = /^(?:race\d\.no-clash-resolution|race4\.nfqueue-calls-update-hook|nat\.same-origin-reply)$/;

/**
 * What a piece of evidence says, in words, and the matched fragment when it is code. The
 * detector writes `site` as "<signature id>: <normalised fragment>"; the id becomes the
 * signature's description, the fragment is kept only as a fallback for when the file cannot be
 * read (it has its blanks stripped).
 */
export function siteWords(e: Evidence): { what: string; fragment?: string } {
  if (e.layer === 'history') return { what: `commit ${e.site}` };
  const m = /^([a-z][a-z0-9]*\.[a-z0-9-]+): ?([\s\S]*)$/.exec(e.site);
  if (m) {
    const [, id, rest] = m;
    if (SENTENCE_IDS.test(id)) return { what: rest };
    let describe: string | undefined;
    try {
      describe = signature(id).describe;
    } catch {
      describe = undefined;
    }
    const fragment = /\(\) defined$/.test(rest) || /^[a-z_]+\(\) keeps /.test(rest) ? undefined : rest;
    return { what: describe ?? rest, fragment: describe ? fragment : undefined };
  }
  if (e.site.startsWith('damaged: ')) return { what: `damaged code: ${e.site.slice('damaged: '.length)}` };
  return { what: e.site };
}

/** "Fix present" / "Race open here" and friends, by layer. */
export function evidenceKind(e: Evidence): string {
  if (e.layer === 'history') return e.supports ? 'In git history' : 'In git history, against the fix';
  if (e.layer === 'patch') return e.supports ? 'Patch: applied' : 'Patch: not applied';
  return e.supports ? 'Fix present' : 'Race open here';
}

/** Reads a file of the report as lines (the editor's unsaved text, or disk); undefined: unreadable. */
export type LineReader = (file: string) => string[] | undefined;

/** Matched lines as they stand in the file, common indentation removed; whole definitions show their head. */
export function codeLines(e: Evidence, read: LineReader | undefined, max = 12): string[] | undefined {
  if (!read || e.startLine === undefined || e.layer !== 'source') return undefined;
  const all = read(e.file);
  if (!all) return undefined;
  const words = siteWords(e);
  const whole = !words.fragment;
  const end = e.endLine ?? e.startLine;
  const last = Math.min(end, e.startLine - 1 + (whole ? 3 : max), all.length);
  const lines = all.slice(e.startLine - 1, last).map((l) => l.replace(/\r$/, '').replace(/\s+$/, ''));
  if (!lines.length) return undefined;
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^[\t ]*/.exec(l)![0].length));
  const out = lines.map((l) => l.slice(Math.min(indent, /^[\t ]*/.exec(l)![0].length)));
  if (last < end) out.push(`… (${end - last} more line${end - last === 1 ? '' : 's'})`);
  return out;
}

function where(e: Evidence): string {
  const base = e.file.split(/[\\/]/).pop() ?? e.file;
  if (e.startLine === undefined) return base;
  const end = e.endLine ?? e.startLine;
  return `${base} ${end !== e.startLine ? `lines ${e.startLine}–${end}` : `line ${e.startLine}`}`;
}

function evidenceMarkdown(e: Evidence, read: LineReader | undefined): string {
  const w = siteWords(e);
  const fn = e.function ? ` in \`${e.function}()\`` : '';
  const cond = e.condition ? ` (under \`#if ${e.condition}\`)` : '';
  const at = e.layer === 'history' ? '' : `${fn}, ${where(e)}${cond}`;
  const note = e.note ? ` — _${e.note}_` : '';
  const head = `- **${evidenceKind(e)}**${at}: ${e.layer === 'history' && e.commit ? w.what.replace(e.commit.slice(0, 12), `\`${e.commit.slice(0, 12)}\``) : w.what}${note}`;
  const code = codeLines(e, read);
  if (code) return `${head}\n\n  \`\`\`c\n${code.map((l) => `  ${l}`).join('\n')}\n  \`\`\``;
  if (w.fragment) return `${head}\n\n  \`${w.fragment.replace(/`/g, "'")}\``;
  return head;
}

function evidenceText(e: Evidence, read: LineReader | undefined): string[] {
  const w = siteWords(e);
  const loc = e.startLine ? `${e.file}:${e.startLine}${e.endLine && e.endLine !== e.startLine ? `-${e.endLine}` : ''}` : e.file;
  const fn = e.function ? ` ${e.function}()` : '';
  const cond = e.condition ? ` [#if ${e.condition}]` : '';
  const out = [`${e.supports ? '+' : '-'} ${evidenceKind(e)}: ${loc}${fn}${cond}: ${w.what}${e.note ? ` (${e.note})` : ''}`];
  const code = codeLines(e, read, 6);
  if (code) out.push(...code.map((l) => `      | ${l}`));
  return out;
}

export function verdictLabel(v: RaceVerdict): string {
  return `${v.verdict.toUpperCase()}${v.variant ? ` (${v.variant})` : ''}${v.condition ? ` when ${v.condition}` : ''}`;
}

const presence = (f: FeatureFinding): string => (f.present === 'unknown' ? 'cannot tell' : f.present ? 'present' : 'not present');

function otherFindings(r: DetectionResult): string[] {
  return [
    `Zone follow-up 07998281c268 (the same-origin skip also compares zones): ${presence(r.zoneFollowup)}`,
    `2020 clash-resolution rework (6a757c07e51f, REPLY-only insert of a clashing UDP entry): ${presence(r.rework2020)}`,
    `2024 reverse-direction merge (nf_ct_can_merge): ${presence(r.reverse2024)}`,
  ];
}

export interface ReportOptions {
  /** Lets the report quote matched code as it stands in the file. */
  readLines?: LineReader;
}

/** One race's section: verdict in words, why, and every piece of evidence (with code). */
export function raceSectionMarkdown(r: DetectionResult, race: RaceId, opts: ReportOptions = {}): string {
  const v = r.races[race];
  const out: string[] = [];
  const by = v.decidedBy ? ` _(decided by ${LAYER_WORDS[v.decidedBy] ?? v.decidedBy})_` : '';
  out.push(`## ${RACE_TITLES[race] ?? race}\n\n**${capital(verdictWords(v, race))}.** ${v.explain}${by}\n`);
  if (v.disagreement) out.push(`> ⚠ ${v.disagreement}\n`);
  if (!v.evidence.length)
    out.push(
      v.verdict === 'not-applicable'
        ? '_No evidence lines: the code this race lives in is not in this tree._'
        : '_No evidence lines: nothing of this fix is in the file._',
    );
  else {
    out.push(`Evidence (${v.evidence.length}):\n`);
    for (const e of v.evidence) out.push(evidenceMarkdown(e, opts.readLines));
  }
  return out.join('\n');
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function formatDetection(r: DetectionResult, style: 'text' | 'markdown', opts: ReportOptions = {}): string {
  const md = style === 'markdown';
  const out: string[] = [];
  out.push(md ? `# nf_conntrack race fixes: ${r.file}` : `${r.file}`);
  if (!r.kernelFile) {
    out.push(md ? `\n**Not analysed:** ${r.reason}` : `  not analysed: ${r.reason}`);
    return out.join('\n');
  }
  if (r.reason) out.push(md ? `\n_Note: ${r.reason}_` : `  note: ${r.reason}`);
  if (md) {
    out.push('\n| Race | Verdict |\n| --- | --- |');
    for (const race of RACES) out.push(`| ${RACE_TITLES[race]} | ${verdictWords(r.races[race], race)} |`);
  }
  for (const race of RACES) {
    const v = r.races[race];
    if (md) out.push(`\n${raceSectionMarkdown(r, race, opts)}`);
    else {
      out.push(`  ${race}: ${verdictLabel(v)} — ${v.explain}`);
      if (v.disagreement) out.push(`    ! ${v.disagreement}`);
      for (const e of v.evidence) out.push(...evidenceText(e, opts.readLines).map((l) => `    ${l}`));
    }
  }
  const extras = otherFindings(r);
  out.push(md ? `\n## Other findings\n\n${extras.map((e) => `- ${e}`).join('\n')}` : extras.map((e) => `  ${e}`).join('\n'));
  if (r.history) {
    const h = r.history;
    const line = h.available
      ? `Git history: ${h.commitsTouchingFile} commit${h.commitsTouchingFile === 1 ? ' touches' : 's touch'} the file; ${h.commits.length} match${h.commits.length === 1 ? 'es' : ''} the catalogue`
      : `Git history: ${h.reason}`;
    out.push(md ? `- ${line}` : `  ${line}`);
  }
  return out.join('\n');
}

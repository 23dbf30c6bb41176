// What the editor shows for a detection result — lens titles, the status summary, diagnostics,
// quick-pick rows — as plain data. No vscode import, so node --test covers all of it and the
// adapters only translate these records into editor objects.

import type { HunkReport, PatchReport } from '../core/patch/applied';
import { evidenceKind, siteWords, verdictWords } from '../core/report';
import { isSettled, RACES, verdictLabel } from '../core/types';
import type { DetectionResult, Evidence, FunctionInfo, RaceId, RaceVerdict, VariantId, Verdict } from '../core/types';
import { CMD } from '../ids';

export const RACE_NAMES: Record<RaceId, string> = { race1: 'Race 1', race2: 'Race 2', race3: 'Race 3', race4: 'Race 4' };
const RACE_ABOUT: Record<RaceId, string> = {
  race1: 'identical tuples, NAT done: the old resolver refuses to merge',
  race2: 'SNAT picks another port for a same-origin entry',
  race3: 'DNAT to different endpoints: entries can never match',
  race4: 'nfqueue (NetworkPolicy agents) redoes NAT against a clashing entry on reinject (kind#3713)',
};

/** Codicons chosen so that the three "look again" verdicts never resemble fixed or missing. */
export const VERDICT_ICON: Record<Verdict, string> = {
  fixed: '$(pass)',
  missing: '$(error)',
  partial: '$(warning)',
  conditional: '$(git-compare)',
  unknown: '$(question)',
  'not-applicable': '$(circle-slash)',
};

/** One-character marks for the status bar. */
export const VERDICT_MARK: Record<Verdict, string> = {
  fixed: '✓',
  missing: '✗',
  partial: '◐',
  conditional: '⇄',
  unknown: '?',
  'not-applicable': '–',
};

const VARIANT_WORDS: Record<VariantId, string> = {
  ed07d9a021df: 'ed07d9a021df',
  'azure-937963': 'azure 937963 (pre-upstream)',
  '4e35c1cb9460': '4e35c1cb9460',
  '07998281c268': '07998281c268',
  'azure-952939': 'azure 952939 (pre-upstream)',
  'rework-2020': 'superseded by the 2020 rework',
  'reverse-2024': 'superseded by nf_ct_can_merge (2024)',
  'nfqueue-2024': '8af79d3edb5f (nfqueue clash logic removed)',
};

export function variantWords(v: VariantId | null | undefined): string {
  return v ? (VARIANT_WORDS[v] ?? v) : '';
}

/** The races of a result in catalogue order (races the core adds later come after). */
export function raceIds(r: DetectionResult): RaceId[] {
  const known = RACES.filter((race) => race in r.races);
  return [...known, ...(Object.keys(r.races) as RaceId[]).filter((race) => !known.includes(race))];
}

const raceName = (race: RaceId): string => RACE_NAMES[race] ?? race.replace(/^race/, 'Race ');

/** The simulation scenario that shows a race's drops (race 3 needs DNAT to several endpoints). */
export function scenarioFor(race: RaceId): string {
  return race === 'race3' ? 'dns-vip' : 'dns-snat';
}

/**
 * The model variant that is this tree without one race's fix: a lens on a fixed race simulates
 * that variant beside the tree, so the panel shows the drops the fix removes (a fixed tree
 * beside its own backport would show none). Race 4 is not in the model.
 */
export const WITHOUT_FIX: Partial<Record<RaceId, string>> = { race1: '4e35c1cb', race2: 'ed07d9a', race3: 'both+zone' };

export interface SimulateArgs {
  race: RaceId;
  scenario: string;
  uri: string;
  /** Set when the race is fixed here: the "before" column's variant (the tree without the fix). */
  before?: string;
}

export function simulateArgs(race: RaceId, v: RaceVerdict, uri: string): SimulateArgs {
  const before = v.verdict === 'fixed' ? WITHOUT_FIX[race] : undefined;
  return { race, scenario: scenarioFor(race), uri, ...(before ? { before } : {}) };
}

type Fn = Pick<FunctionInfo, 'name' | 'startLine' | 'endLine' | 'nameLine' | 'condition'>;

/** Source evidence of `v` that sits inside `fn`. */
function evidenceIn(v: RaceVerdict, fn: Fn): Evidence[] {
  return v.evidence.filter(
    (e) => e.layer === 'source' && e.startLine !== undefined && e.startLine >= fn.startLine && e.startLine <= fn.endLine,
  );
}

/**
 * The lens title of one race. `fn` narrows a conditional verdict to the #if branch the
 * function copy sits in, so each copy says what it does.
 */
export function raceTitle(race: RaceId, v: RaceVerdict, fn?: Fn): string {
  const name = raceName(race);
  let text: string;
  switch (v.verdict) {
    case 'fixed':
      // The 2020 rework is race 3's own fix; for races 1 and 2 it replaced the older fixes.
      text =
        race === 'race3' && v.variant === 'rework-2020'
          ? 'fixed — by the 2020 rework'
          : `fixed — ${variantWords(v.variant) || 'fix present'}`;
      break;
    case 'missing':
      text = 'missing — packets drop';
      break;
    case 'partial':
      text = `PARTIAL — only some sites of ${variantWords(v.variant) || 'the fix'}`;
      break;
    case 'conditional': {
      const here = fn?.condition ? evidenceIn(v, fn) : [];
      if (here.length && here.every((e) => e.supports)) text = `conditional — fixed under ${fn!.condition}`;
      else if (here.length && here.every((e) => !e.supports)) text = `conditional — missing under ${fn!.condition}`;
      else text = `conditional on ${v.condition ?? 'a preprocessor branch'}`;
      break;
    }
    case 'not-applicable':
      text = 'not in this tree';
      break;
    default:
      text = 'unknown shape — check by hand';
  }
  return `${VERDICT_ICON[v.verdict]} ${name}: ${text}${v.disagreement ? ' $(alert) history disagrees' : ''}`;
}

export function raceTooltip(race: RaceId, v: RaceVerdict): string {
  const by = v.decidedBy ? ` (decided by the ${v.decidedBy} layer)` : '';
  return `${RACE_NAMES[race]} — ${RACE_ABOUT[race]}\n${v.explain}${by}${v.disagreement ? `\n⚠ ${v.disagreement}` : ''}`;
}

export interface StatusSummary {
  text: string;
  tooltip: string;
  /** error: race 1 or 2 drops; warning: anything to look at again, or race 3 missing. */
  level: 'ok' | 'warning' | 'error';
}

export function summarize(r: DetectionResult): StatusSummary {
  if (!r.kernelFile)
    return { text: '$(shield) conntrack: not analysed', tooltip: r.reason ?? 'not an nf_conntrack_core.c', level: 'warning' };
  const marks = RACES.map((race, i) => `R${i + 1} ${VERDICT_MARK[r.races[race].verdict]}`).join(' ');
  let level: StatusSummary['level'] = 'ok';
  for (const race of RACES) {
    const v = r.races[race].verdict;
    // A pre-upstream azure variant works, but the tree still needs the SRU's revert-and-pick.
    if (v === 'fixed' && (r.races[race].variant ?? '').startsWith('azure-')) {
      if (level === 'ok') level = 'warning';
      continue;
    }
    if (isSettled(v)) continue;
    // Races 3 and 4 are not what the backport plan changes (race 4 only bites nfqueue users).
    if (v === 'missing' && race !== 'race3' && race !== 'race4') level = 'error';
    else if (level === 'ok') level = 'warning';
  }
  const tooltip = RACES.map((race) => `${RACE_NAMES[race]}: ${verdictWords(r.races[race], race)} — ${r.races[race].explain}`).join('\n');
  return { text: `$(shield) conntrack: ${marks}`, tooltip, level };
}

export interface LensItem {
  title: string;
  command: string;
  args: unknown[];
  tooltip?: string;
}

export interface FunctionLenses {
  function: string;
  /** 1-based line the lenses sit above (the start of the definition). */
  line: number;
  items: LensItem[];
}

/** Which races a function's lens speaks for; the resolver's role moved in the 2020 rework. */
function racesOf(name: string, split: boolean): RaceId[] | 'summary' | null {
  switch (name) {
    case '__nf_ct_resolve_clash':
    case 'nf_ct_match':
    case 'nf_ct_can_merge':
      return ['race1'];
    case 'nf_ct_resolve_clash':
      return split ? ['race3'] : ['race1', 'race3'];
    case 'nf_ct_resolve_clash_harder':
      return ['race3'];
    case 'nf_conntrack_tuple_taken':
      return ['race2'];
    case 'nf_conntrack_update':
    case '__nf_conntrack_update':
      return ['race4'];
    case '__nf_conntrack_confirm':
      return 'summary';
    default:
      return null;
  }
}

/** Races 1 and 2 are what the revert-then-cherry-pick plan changes. */
function needsBackport(race: RaceId, v: RaceVerdict): boolean {
  if (race === 'race3' || race === 'race4') return false;
  return v.verdict !== 'fixed' || (v.variant ?? '').startsWith('azure-');
}

/** Lenses for one document: verdicts above each relevant function, then actions. */
export function lensPlan(r: DetectionResult, uri: string): FunctionLenses[] {
  if (!r.kernelFile) {
    const reason = (r.reason ?? 'not an nf_conntrack_core.c').slice(0, 100);
    return [
      {
        function: '',
        line: 1,
        items: [{ title: `$(question) Conntrack: not analysed — ${reason}`, command: CMD.detect, args: [], tooltip: r.reason }],
      },
    ];
  }
  const fns = Object.values(r.functions).sort((a, b) => a.startLine - b.startLine);
  const split = fns.some((f) => f.name === '__nf_ct_resolve_clash');
  // Line 1: every race at a glance (the first function lens of a real file is ~700 lines down).
  const summary: LensItem[] = raceIds(r).map((race) => ({
    title: `${VERDICT_ICON[r.races[race].verdict]} ${raceName(race)} ${verdictLabel(r.races[race].verdict)}`,
    command: CMD.showEvidence,
    args: [race, undefined, uri],
    tooltip: raceTooltip(race, r.races[race]),
  }));
  summary.push({ title: 'Show report', command: CMD.detect, args: [], tooltip: 'Whole-tree report with every piece of evidence' });
  const out: FunctionLenses[] = [{ function: '', line: 1, items: summary }];
  for (const fn of fns) {
    const role = racesOf(fn.name, split);
    if (!role) continue;
    const items: LensItem[] = [];
    if (role === 'summary') {
      const s = summarize(r);
      items.push({
        title: `$(shield) Clash path: ${s.text.replace('$(shield) conntrack: ', '')}`,
        command: CMD.detect,
        args: [],
        tooltip: s.tooltip,
      });
      items.push({ title: 'Show evidence', command: CMD.showEvidence, args: [undefined, undefined, uri] });
    } else {
      for (const race of role)
        items.push({
          title: raceTitle(race, r.races[race], fn),
          command: CMD.showEvidence,
          args: [race, undefined, uri],
          tooltip: raceTooltip(race, r.races[race]),
        });
      const helper = fn.name === 'nf_ct_match' || fn.name === 'nf_ct_can_merge';
      items.push({ title: 'Show evidence', command: CMD.showEvidence, args: [role[0], undefined, uri] });
      if (!helper && role.some((race) => needsBackport(race, r.races[race])))
        items.push({ title: 'Plan backport', command: CMD.planBackport, args: [uri] });
      if (!helper) {
        const race = role[role.length - 1];
        const sim = simulateArgs(race, r.races[race], uri);
        items.push({
          title: 'Simulate',
          command: CMD.openSimulation,
          args: [sim],
          tooltip: sim.before
            ? `${raceName(race)} is fixed here: simulate ${sim.scenario} on this tree without the fix, beside the tree as it is`
            : `Simulate ${sim.scenario} on this tree, beside it after the planned backport`,
        });
      }
    }
    out.push({ function: fn.name, line: fn.startLine, items });
  }
  return out;
}

export interface DiagnosticPlan {
  race: RaceId;
  /** 1-based inclusive. */
  startLine: number;
  endLine: number;
  severity: 'warning' | 'information';
  message: string;
  /** The signature id that matched. */
  code: string;
}

/**
 * Diagnostics on the exact lines of source evidence in `file`: a warning where a race still
 * drops, information where a fix sits. Evidence that spans a whole helper definition is
 * shown on its name line only, so a 10-line squiggle does not hide the code.
 */
export function diagnosticPlan(r: DetectionResult, file: string): DiagnosticPlan[] {
  if (!r.kernelFile) return [];
  const fns = Object.values(r.functions);
  const out: DiagnosticPlan[] = [];
  const seen = new Set<string>();
  for (const race of RACES) {
    const v = r.races[race];
    for (const e of v.evidence) {
      if (e.layer !== 'source' || e.file !== file || e.startLine === undefined) continue;
      let start = e.startLine;
      let end = e.endLine ?? e.startLine;
      const whole = fns.find((f) => f.startLine === start && f.endLine === end);
      if (whole) start = end = whole.nameLine;
      const code = e.site.split(':')[0];
      const cond = e.condition ? ` (under #if ${e.condition})` : '';
      const message = e.supports
        ? `${RACE_NAMES[race]} fix${e.variant ? ` (${variantWords(e.variant)})` : ''}${cond}: ${siteWords(e).what}`
        : `${RACE_NAMES[race]} drops here${cond}: ${v.explain}`;
      const key = `${race}:${start}:${end}:${e.supports}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ race, startLine: start, endLine: end, severity: e.supports ? 'information' : 'warning', message, code });
    }
  }
  // A race that drops but has no source line saying so (race 3 missing: nothing of its fix is
  // there) still gets a warning, on the name line of the function where the clash is resolved.
  const split = fns.some((f) => f.name === '__nf_ct_resolve_clash');
  for (const race of raceIds(r)) {
    const v = r.races[race];
    if ((v.verdict !== 'missing' && v.verdict !== 'partial') || out.some((d) => d.race === race && d.severity === 'warning')) continue;
    if (file !== r.file) break;
    const at =
      fns.find((f) => {
        const role = racesOf(f.name, split);
        return Array.isArray(role) && role.includes(race);
      }) ?? fns.find((f) => f.name === '__nf_conntrack_confirm');
    if (!at) continue;
    out.push({
      race,
      startLine: at.nameLine,
      endLine: at.nameLine,
      severity: 'warning',
      message: `${raceName(race)} drops here: ${v.explain}`,
      code: `${race}.${v.verdict}`,
    });
  }
  return out.sort((a, b) => a.startLine - b.startLine);
}

export interface PickRow<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

export function racePickRows(r: DetectionResult): PickRow<RaceId>[] {
  return raceIds(r).map((race) => {
    const v = r.races[race];
    return {
      label: raceTitle(race, v),
      description: v.evidence.length ? `${v.evidence.length} piece${v.evidence.length === 1 ? '' : 's'} of evidence` : 'no evidence lines',
      detail: v.explain,
      value: race,
    };
  });
}

/** Rows keep the evidence index as value; when the race is not fixed, where it drops comes first. */
export function evidencePickRows(v: RaceVerdict): PickRow<number>[] {
  const order = v.evidence.map((e, i) => ({ e, i }));
  if (v.verdict !== 'fixed') order.sort((a, b) => Number(a.e.supports) - Number(b.e.supports));
  return order.map(({ e, i }) => {
    const where = e.startLine
      ? `${e.function ? `${e.function}() ` : ''}lines ${e.startLine}-${e.endLine ?? e.startLine}`
      : e.commit
        ? `commit ${e.commit.slice(0, 12)}`
        : e.file;
    return {
      label: `${e.supports ? '$(check)' : '$(x)'} ${where}`,
      description: `${evidenceKind(e)} · ${e.file.split(/[\\/]/).pop()}${e.condition ? ` #if ${e.condition}` : ''}`,
      detail: `${siteWords(e).what}${e.note ? ` — ${e.note}` : ''}`,
      value: i,
    };
  });
}

const HUNK_ICON: Record<HunkReport['state'], string> = { applied: '$(check)', 'not-applied': '$(circle-slash)', conflicting: '$(warning)' };

export type HunkRow = PickRow<{ file: string; line?: number }>;

/** Per-hunk rows of a patch check; rows with a line are navigable. */
export function hunkPickRows(reports: PatchReport[]): HunkRow[] {
  const rows: HunkRow[] = [];
  for (const rep of reports) {
    for (const f of rep.files) {
      if (!f.present) {
        rows.push({ label: `$(question) ${f.path}: not in this tree`, detail: rep.subject, value: { file: f.path } });
        continue;
      }
      for (const h of f.hunks) {
        rows.push({
          label: `${HUNK_ICON[h.state]} hunk ${h.index}: ${h.state}`,
          description: `${f.path.split('/').pop()}${h.function ? ` · ${h.function}()` : ''}${h.line ? ` · line ${h.line}` : ''}`,
          detail: h.reason,
          value: { file: f.path, line: h.line },
        });
      }
    }
  }
  return rows;
}

export function patchSummary(reports: PatchReport[]): string {
  return reports.map((r) => `${r.subject || '(no subject)'}: ${r.overall} — ${r.explain}`).join('; ');
}

/**
 * A copy of the result with paths relative to the tree root, for reports people share
 * (absolute paths of one machine mean nothing on another).
 */
export function relativizePaths(r: DetectionResult, root: string): DetectionResult {
  const rel = (p: string): string => {
    const norm = p.split('\\').join('/');
    const base = root.split('\\').join('/').replace(/\/$/, '') + '/';
    return norm.startsWith(base) ? norm.slice(base.length) : p;
  };
  const copy: DetectionResult = JSON.parse(JSON.stringify(r));
  copy.file = rel(copy.file);
  for (const race of RACES) for (const e of copy.races[race].evidence) e.file = rel(e.file);
  for (const f of [copy.zoneFollowup, copy.rework2020, copy.reverse2024]) for (const e of f.evidence) e.file = rel(e.file);
  for (const x of copy.related ?? []) {
    x.file = rel(x.file);
    for (const e of x.findings) e.file = rel(e.file);
  }
  return copy;
}

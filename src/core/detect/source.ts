// The source layer: from the text of one nf_conntrack_core.c to per-race verdicts with
// evidence. Works on any copy of the file (tarballs, blobs at a ref) — no history needed.

import { CORE_ANCHORS, entry } from '../catalogue';
import { kernelPrepass } from '../parse/prepass';
import type { Node } from 'web-tree-sitter';
import { compiledView, DeadRegion } from '../parse/compiled';
import { Damage, LineMap, LocatedFunction, locateFunctions } from '../parse/locate';
import { definitionName, getParser, parsePrepassed } from '../parse/treesitter';
import type { DetectionResult, Evidence, FeatureFinding, RaceVerdict, VariantId } from '../types';
import { normalizeTokens } from './normalize';
import { definitionIntact, FileScope, FunctionSite, paramsSound, SIGNATURE_FUNCTIONS, SIGNATURES, SiteMatch } from './signatures';

export interface SourceFacts {
  /** Functions of the compiled view (never-compiled lines blanked). */
  functions: LocatedFunction[];
  matches: Map<string, SiteMatch[]>;
  truncated: LocatedFunction[];
  lines: number;
  /** The text the facts were taken from: line breaks normalised, never-compiled lines blanked. */
  text: string;
  /** Lines no configuration compiles (#if 0 ...). */
  dead: DeadRegion[];
  /** Site matches found only in never-compiled lines: shown, never counted. */
  deadMatches: SiteMatch[];
  /** The input with line breaks normalised (nothing blanked). */
  original: string;
  /** Functions defined only in never-compiled lines. */
  deadFunctions: LocatedFunction[];
  /** Regions whose braces or comments do not balance (the locator recovered after them). */
  damage: Damage[];
  /** Functions of interest whose parse has a syntax error not explained by a directive: first error line. */
  syntaxErrors: Map<LocatedFunction, number>;
  /** Calls among the functions of interest (name -> names it calls). */
  calls: Map<string, Set<string>>;
}

/** Lone CR line breaks (old Mac style) read as line breaks; same length, so offsets hold. */
export function normalizeLineBreaks(text: string): string {
  return text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
}

/** Functions whose calls decide what is reached from the confirm path. */
const CALL_GRAPH_FUNCTIONS = new Set([
  ...SIGNATURE_FUNCTIONS,
  '__nf_conntrack_confirm',
  'nf_conntrack_update',
  '__nf_conntrack_update',
  'nf_ct_resolve_clash_harder',
  'nf_ct_match_reverse',
]);

/**
 * Functions whose every version (4.6 to 6.13, and the real trees we read) names each of its
 * parameters in the body: one the body never names was renamed by damage, and the body then
 * uses a name nothing declares.
 */
const ALL_PARAMS_USED = new Set([
  'nf_ct_resolve_clash',
  '__nf_ct_resolve_clash',
  'nf_ct_resolve_clash_harder',
  'nf_ct_match',
  'nf_ct_match_reverse',
  'nf_ct_can_merge',
  'nf_conntrack_tuple_taken',
]);

function firstErrorRow(n: Node): number | undefined {
  if (n.isError || n.isMissing) return n.startPosition.row;
  for (const c of n.children)
    if (c && c.hasError) {
      const r = firstErrorRow(c);
      if (r !== undefined) return r;
    }
  return n.hasError ? n.startPosition.row : undefined;
}

/** Parameter count from a definition's head (`void` and `()` take none); undefined when unreadable. */
export function headArity(head: string, name: string): number | undefined {
  const at = head.search(new RegExp(`\\b${name}\\s*\\(`));
  if (at < 0) return undefined;
  let depth = 0;
  let commas = 0;
  const open = head.indexOf('(', at);
  for (let i = open; i < head.length; i++) {
    const c = head[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) {
      const inner = normalizeTokens(head.slice(open + 1, i));
      return inner === '' || inner === 'void' ? 0 : commas + 1;
    } else if (c === ',' && depth === 1) commas++;
  }
  return undefined;
}

interface Scan {
  functions: LocatedFunction[];
  matches: Map<string, SiteMatch[]>;
  damage: Damage[];
  syntaxErrors: Map<LocatedFunction, number>;
  calls: Map<string, Set<string>>;
}

async function scan(text: string, lines: LineMap, conditions: (string | undefined)[] | undefined): Promise<Scan> {
  const damage: Damage[] = [];
  const functions = locateFunctions(text, lines, damage);
  const matches = new Map<string, SiteMatch[]>();
  const syntaxErrors = new Map<LocatedFunction, number>();
  const calls = new Map<string, Set<string>>();
  const wanted = functions.filter((f) => SIGNATURE_FUNCTIONS.has(f.name));
  const parser = wanted.length ? await getParser() : null;
  const graphNames = new Set(functions.filter((f) => CALL_GRAPH_FUNCTIONS.has(f.name)).map((f) => f.name));
  const file: FileScope = { text, arity: new Map() };
  for (const f of functions) {
    const n = headArity(text.slice(f.headStart, f.bodyStart), f.name);
    // two definitions that disagree (#ifdef variants): no count to hold calls to
    if (n !== undefined && !f.damaged) file.arity.set(f.name, file.arity.has(f.name) && file.arity.get(f.name) !== n ? -1 : n);
  }
  for (const [k, v] of file.arity) if (v < 0) file.arity.delete(k);
  for (const f of functions) {
    if (!graphNames.has(f.name)) continue;
    const body = normalizeTokens(text.slice(f.bodyStart, f.bodyEnd));
    const set = calls.get(f.name) ?? new Set<string>();
    for (const g of graphNames) if (g !== f.name && body.includes(`${g}(`) && new RegExp(`(?:^|[^\\w])${g}\\(`).test(body)) set.add(g);
    calls.set(f.name, set);
  }
  for (const fn of wanted) {
    const region = text.slice(fn.headStart, fn.bodyEnd);
    // Keep rows aligned with the file: pad the first line to its real column.
    const col = fn.headStart - lines.starts[fn.startLine - 1];
    const src = ' '.repeat(col) + region;
    let tree: ReturnType<typeof parsePrepassed> | null = null;
    let def: Node | null = null;
    let parseErrors = true;
    let headError = false;
    try {
      tree = parsePrepassed(parser!, kernelPrepass(src));
      def = tree.rootNode.namedChildren.find((n) => n?.type === 'function_definition' && definitionName(n)?.text === fn.name) ?? null;
      parseErrors = !def || def.hasError;
      // an error in front of the definition in its own region: a mangled storage class or type
      if (def) for (let p = def.previousSibling; p && !headError; p = p.previousSibling) headError = p.isError || p.hasError || p.isMissing;
    } catch {
      def = null;
    }
    // A syntax error is damage unless a directive inside the body explains it (#ifdef in an expression).
    const marker = /^(?:<{7}|={7}|>{7})(?: |$)/m.exec(region);
    if (marker) {
      syntaxErrors.set(fn, -lines.lineOf(fn.headStart + marker.index));
    } else if (parseErrors && !/^[ \t]*#/m.test(region)) {
      const row = def ? firstErrorRow(def) : tree ? firstErrorRow(tree.rootNode) : undefined;
      syntaxErrors.set(fn, fn.startLine + (row ?? 0));
    }
    const site: FunctionSite = { fn, text: region, tokens: normalizeTokens(region), tree: def, parseErrors, conditions, headError, file };
    if (!syntaxErrors.has(fn) && def && !(definitionIntact(site) && paramsSound(site, ALL_PARAMS_USED.has(fn.name))))
      syntaxErrors.set(fn, fn.nameLine);
    for (const sig of SIGNATURES) {
      if (!sig.functions.includes(fn.name)) continue;
      const m = sig.match(site);
      if (m) {
        const list = matches.get(sig.id) ?? [];
        list.push(m);
        matches.set(sig.id, list);
      }
    }
    tree?.delete();
  }
  return { functions, matches, damage, syntaxErrors, calls };
}

/** Locate functions and run every signature, on the code the compiler can see. */
export async function collectFacts(input: string): Promise<SourceFacts> {
  const original = normalizeLineBreaks(input);
  const view = compiledView(original);
  const lines = new LineMap(view.text);
  // Only needed when some directive sits inside a function we look at; cheap enough to keep.
  const conditions = /^[ \t]*#[ \t]*(?:if|el|endif)/m.test(view.text) ? view.conditions : undefined;
  const live = await scan(view.text, lines, conditions);
  const deadMatches: SiteMatch[] = [];
  const deadFunctions: LocatedFunction[] = [];
  if (view.dead.length) {
    const all = await scan(original, lines, conditions);
    for (const f of all.functions) if (view.dead.some((d) => f.nameLine >= d.startLine && f.nameLine <= d.endLine)) deadFunctions.push(f);
    const inDead = (m: SiteMatch): boolean => view.dead.some((d) => m.startLine <= d.endLine && m.endLine >= d.startLine);
    for (const [id, ms] of all.matches) {
      const liveMs = live.matches.get(id) ?? [];
      for (const m of ms)
        if (inDead(m) && !liveMs.some((x) => x.startLine === m.startLine))
          deadMatches.push({
            ...m,
            condition: view.dead.find((d) => m.startLine <= d.endLine && m.endLine >= d.startLine)?.condition ?? m.condition,
          });
    }
  }
  return {
    functions: live.functions,
    matches: live.matches,
    truncated: live.functions.filter((f) => f.truncated),
    lines: lines.lineCount,
    text: view.text,
    dead: view.dead,
    deadMatches,
    deadFunctions,
    original,
    damage: live.damage,
    syntaxErrors: live.syntaxErrors,
    calls: live.calls,
  };
}

function toEvidence(file: string, m: SiteMatch, variant: VariantId | undefined, supports: boolean, note?: string): Evidence {
  return {
    layer: 'source',
    file,
    function: m.function,
    startLine: m.startLine,
    endLine: m.endLine,
    site: `${m.signature}: ${m.fragment}`,
    variant,
    supports,
    condition: m.condition,
    note: note ?? (m.how === 'tokens' ? 'matched on normalised tokens (function did not parse cleanly)' : undefined),
  };
}

const verdict = (
  v: RaceVerdict['verdict'],
  variant: VariantId | null,
  evidence: Evidence[],
  explain: string,
  extra: Partial<RaceVerdict> = {},
): RaceVerdict => ({ verdict: v, variant, evidence, explain, decidedBy: 'source', ...extra });

const unknownVerdict = (explain: string, evidence: Evidence[] = []): RaceVerdict => ({
  verdict: 'unknown',
  variant: null,
  evidence,
  explain,
});

export function notKernelResult(file: string, reason: string, lines = 0): DetectionResult {
  const u = unknownVerdict(reason);
  const f: FeatureFinding = { present: 'unknown', evidence: [], explain: reason };
  return {
    file,
    kernelFile: false,
    reason,
    races: { race1: u, race2: u, race3: u, race4: u },
    zoneFollowup: f,
    rework2020: f,
    reverse2024: f,
    variantsPresent: [],
    functions: {},
    lines,
  };
}

/** Pre-4.6 confirm path: a clash goes to a label that counts insert_failed and returns NF_DROP. */
function confirmDropsEveryClash(facts: SourceFacts, text: string): boolean {
  const c = facts.functions.find((x) => x.name === '__nf_conntrack_confirm');
  if (!c || c.truncated) return false;
  const t = normalizeTokens(text.slice(c.headStart, c.bodyEnd));
  return /NF_CT_STAT_INC\(\w+,insert_failed\)/.test(t) && /goto out;/.test(t) && !/resolve_clash/.test(t);
}

/** Signatures that show the unfixed shape: they count wherever they are. */
const PARENT_SHAPES = new Set([
  'race1.resolver-nat-blocks-merge',
  'race2.taken-without-skip',
  'race2.comment-hint',
  'race4.nfqueue-clash-logic',
]);

/** Fix sites per race (for "present only in code that is never compiled / reached"). */
const RACE_SITES: Record<RaceKey, string[]> = {
  race4: ['race4.update-without-clash-logic'],
  race1: ['race1.match-helper', 'race1.resolver-merges-matching', 'reverse.can-merge-helper', 'reverse.resolver-uses-can-merge'],
  race2: ['race2.same-origin-skip', 'race2.zone-check', 'race2.gated-same-origin-skip'],
  race3: ['rework.split-resolver', 'rework.clash-harder', 'rework.resolver-calls-harder'],
};

/** Functions a race's verdict is read from: damage in any of them makes the race unknown. */
const RACE_FUNCTIONS: Record<RaceKey, string[]> = {
  race4: ['nf_conntrack_update', '__nf_conntrack_update'],
  race1: ['nf_ct_resolve_clash', '__nf_ct_resolve_clash', 'nf_ct_match', 'nf_ct_can_merge', 'nf_ct_match_reverse'],
  race2: ['nf_conntrack_tuple_taken'],
  race3: ['nf_ct_resolve_clash', '__nf_ct_resolve_clash', 'nf_ct_resolve_clash_harder'],
};

type RaceKey = 'race1' | 'race2' | 'race3' | 'race4';

const RACE_WORDS: Record<RaceKey, RegExp> = {
  race4: /\b(?:nf_conntrack_update|__nf_conntrack_update|manip_pkt)\b/,
  race1: /\b(?:nf_ct_match|nf_ct_resolve_clash|__nf_ct_resolve_clash|nf_ct_can_merge|IPS_NAT_DONE_MASK)\b/,
  race2: /\b(?:nf_conntrack_tuple_taken|ignored_conntrack)\b/,
  race3: /\b(?:nf_ct_resolve_clash_harder|IPS_NAT_CLASH|hlist_nulls_add_fake|__nf_ct_resolve_clash)\b/,
};

function regionText(facts: SourceFacts, startLine: number, endLine: number): string {
  const lines = facts.original.split('\n');
  return lines.slice(startLine - 1, endLine).join('\n');
}

/**
 * Race 4 from nf_conntrack_core.c alone. The nfqueue conntrack hook is `nf_conntrack_update`
 * (nf_ct_hook->update, called on reinject); from 368982cd7d1b it resolves clashes itself,
 * which 8af79d3edb5f removes again, leaving them to the core resolver of the v5.6 rework.
 */
function nfqueueVerdict(
  facts: SourceFacts,
  file: string,
  rework: boolean,
  has: (f: string) => boolean,
  get: (id: string) => SiteMatch[],
  ev: (ms: SiteMatch[], v: VariantId | undefined, supports: boolean) => Evidence[],
): RaceVerdict {
  const old = get('race4.nfqueue-clash-logic');
  const without = get('race4.update-without-clash-logic');
  const fromHook = reachFrom(facts.calls, 'nf_conntrack_update', new Set(facts.functions.map((f) => f.name)));
  const oldReached = old.filter((m) => fromHook.has(m.function));
  if (!has('nf_conntrack_update')) {
    if (has('__nf_conntrack_update'))
      return {
        verdict: 'unknown',
        variant: null,
        evidence: ev(old, undefined, false),
        explain: '__nf_conntrack_update() is defined but nf_conntrack_update(), the nfqueue hook that calls it, is not: unrecognised shape',
      };
    // Named (the hook table's `.update = nf_conntrack_update`, a call, dead code) but not defined
    // in compiled code: the hook exists in this tree and cannot be read, so not "not in this tree".
    const named = /\bnf_conntrack_update\b/.exec(facts.original);
    if (named) {
      const line = facts.original.slice(0, named.index).split('\n').length;
      return {
        verdict: 'unknown',
        variant: null,
        evidence: [],
        explain: `nf_conntrack_update() is named (line ${line}) but not defined in code that is compiled: the nfqueue hook is in this tree and cannot be read`,
        decidedBy: 'source',
      };
    }
    return {
      verdict: 'not-applicable',
      variant: null,
      evidence: [],
      explain:
        "not in this tree: no nf_conntrack_update(), so the kernel predates nfqueue's conntrack hook (nf_ct_hook->update) and has no nfqueue clash logic of its own",
      decidedBy: 'source',
    };
  }
  if (oldReached.length)
    return {
      verdict: 'missing',
      variant: null,
      evidence: ev(oldReached, undefined, false),
      explain: `nfqueue resolves clashes itself on reinject (${oldReached[0].function}(), line ${oldReached[0].startLine}): it swaps in the clashing entry and redoes NAT, which misroutes packets not queued in OUTPUT — race 4 (kind#3713) drops DNS; fixed by 8af79d3edb5f (v6.12)`,
      decidedBy: 'source',
    };
  if (old.length)
    return {
      verdict: 'partial',
      variant: 'nfqueue-2024',
      evidence: ev(old, undefined, false),
      explain: `${old[0].function}() (line ${old[0].startLine}) still holds the old nfqueue clash logic but nf_conntrack_update() no longer calls it: incomplete removal (8af79d3edb5f deletes it)`,
      decidedBy: 'source',
    };
  if (!without.length) {
    const f = facts.functions.find((x) => x.name === 'nf_conntrack_update')!;
    return {
      verdict: 'unknown',
      variant: null,
      evidence: [],
      explain: `nf_conntrack_update() (line ${f.startLine}) has an unrecognised shape`,
      decidedBy: 'source',
    };
  }
  if (!rework)
    return {
      verdict: 'partial',
      variant: 'nfqueue-2024',
      evidence: ev(without, 'nfqueue-2024', true),
      explain:
        'nf_conntrack_update() has no clash logic, but this tree lacks the v5.6 core clash insertion (6a757c07e51f): 8af79d3edb5f says it must not be backported below v5.6 — clashes after reinjection are dropped by the core',
      decidedBy: 'source',
    };
  return {
    verdict: 'fixed',
    variant: 'nfqueue-2024',
    evidence: ev(without, 'nfqueue-2024', true),
    explain:
      '8af79d3edb5f present: nf_conntrack_update() no longer redoes NAT against a clashing entry; the core resolver (v5.6 rework) settles the clash at confirm',
    decidedBy: 'source',
  };
}

function damageOf(facts: SourceFacts, names: string[]): { fn: LocatedFunction; what: string; startLine: number; endLine: number } | null {
  for (const fn of facts.functions) {
    if (!names.includes(fn.name)) continue;
    if (fn.truncated)
      return {
        fn,
        what: `${fn.name}() starts at line ${fn.startLine} but has no closing brace: the file looks truncated`,
        startLine: fn.startLine,
        endLine: fn.endLine,
      };
    if (fn.damaged)
      return {
        fn,
        what: `${fn.name}() (lines ${fn.startLine}-${fn.endLine}) is damaged: ${fn.damaged}`,
        startLine: fn.startLine,
        endLine: fn.endLine,
      };
    const err = facts.syntaxErrors.get(fn);
    if (err !== undefined && err < 0)
      return {
        fn,
        what: `${fn.name}() (lines ${fn.startLine}-${fn.endLine}) holds unresolved merge-conflict markers (line ${-err})`,
        startLine: -err,
        endLine: -err,
      };
    if (err !== undefined)
      return {
        fn,
        what: `${fn.name}() (lines ${fn.startLine}-${fn.endLine}) does not parse: ${err === fn.nameLine ? 'its definition line is damaged' : 'syntax error'} at line ${err}`,
        startLine: err,
        endLine: err,
      };
  }
  return null;
}

/** Functions reachable by calls from `root` (root included; empty when the file lacks it). */
function reachFrom(calls: Map<string, Set<string>>, root: string, names: Set<string>): Set<string> {
  const out = new Set<string>();
  if (!names.has(root)) return out;
  const todo = [root];
  while (todo.length) {
    const f = todo.pop()!;
    if (out.has(f)) continue;
    out.add(f);
    for (const g of calls.get(f) ?? []) todo.push(g);
  }
  return out;
}

function distinctConds(ms: SiteMatch[]): Set<string> {
  return new Set(ms.map((m) => m.condition ?? ''));
}

export async function detectSource(text: string, file: string): Promise<DetectionResult> {
  const t0 = performance.now();
  const facts = await collectFacts(text);
  const t1 = performance.now();
  const names = new Set(facts.functions.map((f) => f.name));
  // Anchors only in never-compiled code still make it the file (its verdicts say why nothing counts).
  const anchors = CORE_ANCHORS.filter((a) => names.has(a) || facts.deadFunctions.some((f) => f.name === a));
  if (!anchors.length) {
    const reason = facts.functions.length
      ? `not nf_conntrack_core.c: none of ${CORE_ANCHORS.slice(0, 4).join(', ')}… is defined among its ${facts.functions.length} functions`
      : 'not nf_conntrack_core.c: no C function definitions found';
    return notKernelResult(file, reason, facts.lines);
  }
  // A fix site counts only when it is compiled (dead lines were blanked) and reached: the
  // resolver family from __nf_conntrack_confirm(), tuple_taken being an exported entry point.
  const fromConfirm = reachFrom(facts.calls, '__nf_conntrack_confirm', names);
  // (race 4 reads its own reach from the nfqueue hook, nf_conntrack_update)
  const reachable = (fname: string): boolean =>
    fname === 'nf_conntrack_tuple_taken' || fname === 'nf_conntrack_update' || fromConfirm.has(fname);
  const unreached: SiteMatch[] = [];
  const get = (id: string): SiteMatch[] => {
    const all = facts.matches.get(id) ?? [];
    if (PARENT_SHAPES.has(id)) return all;
    const ok = all.filter((m) => reachable(m.function));
    for (const m of all) if (!ok.includes(m) && !unreached.includes(m)) unreached.push(m);
    return ok;
  };
  const trunc = (fname: string): LocatedFunction | undefined => facts.truncated.find((f) => f.name === fname);
  const has = (fname: string): boolean => names.has(fname);
  const ev = (ms: SiteMatch[], v: VariantId | undefined, supports: boolean): Evidence[] => ms.map((m) => toEvidence(file, m, v, supports));
  const present = new Set<VariantId>();

  // ---- 2020 rework and 2024 reverse collisions (race 3; they also carry race 1)
  const split = get('rework.split-resolver');
  const harder = get('rework.clash-harder');
  const callsHarder = get('rework.resolver-calls-harder');
  const rework = split.length > 0 && harder.length > 0 && callsHarder.length > 0;
  const reworkAny = split.length > 0 || harder.length > 0 || has('nf_ct_resolve_clash_harder');
  const canMergeHelper = get('reverse.can-merge-helper');
  const canMergeUse = get('reverse.resolver-uses-can-merge');
  const reverse = canMergeHelper.length > 0 && canMergeUse.length > 0;
  if (rework) present.add('rework-2020');
  if (reverse) present.add('reverse-2024');

  // ---- race 1
  const helper = get('race1.match-helper');
  const merges = get('race1.resolver-merges-matching');
  const blocks = get('race1.resolver-nat-blocks-merge');
  let race1: RaceVerdict;
  const resolverTrunc = trunc('nf_ct_resolve_clash') ?? trunc('__nf_ct_resolve_clash');
  const ed07 = entry('ed07d9a021df');
  if (resolverTrunc) {
    race1 = unknownVerdict(
      `${resolverTrunc.name}() starts at line ${resolverTrunc.startLine} but has no closing brace: the file looks truncated`,
    );
  } else if (reverse && helper.length) {
    race1 = verdict(
      'fixed',
      'reverse-2024',
      [...ev(canMergeUse, 'reverse-2024', true), ...ev(canMergeHelper, 'reverse-2024', true), ...ev(helper, 'ed07d9a021df', true)],
      'superseded: the 2024 reverse-collision change merges via nf_ct_can_merge() = nf_ct_match() || nf_ct_match_reverse(), which contains ed07d9a021df',
    );
  } else if (merges.length && blocks.length) {
    const cm = distinctConds(merges);
    const cb = distinctConds(blocks);
    const differ = [...cm].every((c) => !cb.has(c));
    if (differ) {
      const cond = merges[0].condition ?? '(no condition)';
      race1 = verdict(
        'conditional',
        rework ? 'rework-2020' : 'ed07d9a021df',
        [...ev(merges, 'ed07d9a021df', true), ...ev(blocks, undefined, false)],
        `fixed only when ${cond}; the other preprocessor branch keeps the old NAT-blocks-merge test`,
        { condition: cond },
      );
    } else {
      race1 = verdict(
        'partial',
        'ed07d9a021df',
        [...ev(merges, 'ed07d9a021df', true), ...ev(blocks, undefined, false)],
        'both the fixed and the old merge condition are compiled in together: a botched backport',
      );
    }
  } else if (merges.length) {
    if (helper.length) {
      const v: VariantId = rework ? 'rework-2020' : 'ed07d9a021df';
      race1 = verdict(
        'fixed',
        v,
        [...ev(merges, 'ed07d9a021df', true), ...ev(helper, 'ed07d9a021df', true)],
        rework
          ? 'superseded: the 2020 rework keeps the ed07d9a021df merge test in __nf_ct_resolve_clash()'
          : `ed07d9a021df present: ${merges[0].function}() merges when NAT was not done or nf_ct_match() says both entries match`,
      );
    } else {
      race1 = verdict(
        'partial',
        'ed07d9a021df',
        ev(merges, 'ed07d9a021df', true),
        `${merges[0].function}() calls nf_ct_match() but this file does not define it: incomplete backport of ${ed07.commits[0].slice(0, 12)}`,
      );
    }
  } else if (blocks.length) {
    // A defined-but-unused nf_ct_match() is half a backport (not a fix): count it for "partial".
    const anyHelper = facts.matches.get('race1.match-helper') ?? [];
    for (const m of anyHelper) if (unreached.includes(m)) unreached.splice(unreached.indexOf(m), 1);
    race1 = anyHelper.length
      ? verdict(
          'partial',
          'ed07d9a021df',
          [...ev(anyHelper, 'ed07d9a021df', true), ...ev(blocks, undefined, false)],
          `nf_ct_match() is defined but ${blocks[0].function}() still refuses to merge NATed entries: half of ed07d9a021df`,
        )
      : verdict(
          'missing',
          null,
          ev(blocks, undefined, false),
          `${blocks[0].function}() merges only when NAT was not done (… IPS_NAT_DONE_MASK) == 0) && …): race 1 drops`,
        );
  } else if (has('nf_ct_resolve_clash') || has('__nf_ct_resolve_clash')) {
    const f = facts.functions.find((x) => x.name === '__nf_ct_resolve_clash' || x.name === 'nf_ct_resolve_clash')!;
    race1 = unknownVerdict(
      `${f.name}() (line ${f.startLine}) has neither the old nor the fixed merge condition on IPS_NAT_DONE_MASK; unrecognised shape`,
      [
        {
          layer: 'source',
          file,
          function: f.name,
          startLine: f.startLine,
          endLine: f.endLine,
          site: 'resolver without a known merge test',
          supports: false,
        },
      ],
    );
  } else if (confirmDropsEveryClash(facts, facts.text)) {
    const c = facts.functions.find((x) => x.name === '__nf_conntrack_confirm')!;
    race1 = verdict(
      'missing',
      null,
      [
        {
          layer: 'source',
          file,
          function: c.name,
          startLine: c.startLine,
          endLine: c.endLine,
          site: 'race1.no-clash-resolution: __nf_conntrack_confirm() counts insert_failed and drops; no resolver exists',
          supports: false,
          condition: c.condition,
        },
      ],
      'no clash resolution at all (it arrived in v4.6): every clash at confirm drops the packet',
    );
  } else {
    race1 = unknownVerdict(
      'no nf_ct_resolve_clash()/__nf_ct_resolve_clash() in this file: clash resolution is not where any known variant puts it',
    );
  }
  if (race1.verdict === 'fixed' && race1.variant === 'ed07d9a021df') present.add('ed07d9a021df');
  if (race1.verdict === 'conditional' || race1.verdict === 'partial') present.add('ed07d9a021df');

  // ---- race 2
  const skip = get('race2.same-origin-skip');
  const zone = get('race2.zone-check');
  const gatedSkip = get('race2.gated-same-origin-skip');
  const noSkip = get('race2.taken-without-skip');
  const hint = get('race2.comment-hint');
  let race2: RaceVerdict;
  const takenTrunc = trunc('nf_conntrack_tuple_taken');
  if (takenTrunc) {
    race2 = unknownVerdict(
      `nf_conntrack_tuple_taken() starts at line ${takenTrunc.startLine} but has no closing brace: the file looks truncated`,
    );
  } else if (skip.length && noSkip.length && [...distinctConds(skip)].every((c) => !distinctConds(noSkip).has(c))) {
    const cond = skip[0].condition ?? '(no condition)';
    race2 = verdict(
      'conditional',
      '4e35c1cb9460',
      [...ev(skip, '4e35c1cb9460', true), ...ev(noSkip, undefined, false)],
      `same-origin skip only when ${cond}`,
      { condition: cond },
    );
  } else if (skip.length) {
    race2 = verdict(
      'fixed',
      '4e35c1cb9460',
      [...ev(skip, '4e35c1cb9460', true), ...ev(zone, '07998281c268', true), ...ev(gatedSkip, 'azure-952939', true)],
      `4e35c1cb9460 present: nf_conntrack_tuple_taken() skips an entry with the same ORIGINAL tuple${zone.length ? ' in the same zone (07998281c268)' : ''}`,
    );
    if (gatedSkip.length) race2.explain += '; a second, protocol-gated same-origin skip is also present (azure 952939 not reverted?)';
  } else if (gatedSkip.length) {
    race2 = verdict(
      'fixed',
      'azure-952939',
      ev(gatedSkip, 'azure-952939', true),
      "non-upstream race-2 variant (azure-952939?): a same-origin skip gated on the protocol; revert it and pick 4e35c1cb9460 (hypothesis: 952939's code is not public)",
    );
  } else if (noSkip.length) {
    race2 = hint.length
      ? verdict(
          'partial',
          '4e35c1cb9460',
          [...ev(hint, '4e35c1cb9460', true), ...ev(noSkip, undefined, false)],
          'a comment about same-origin entries is present but no skip: the 4e35c1cb9460 code is missing',
        )
      : verdict(
          'missing',
          null,
          ev(noSkip, undefined, false),
          'nf_conntrack_tuple_taken() reports any matching entry as taken, even one with our own ORIGINAL tuple: race 2 drops',
        );
  } else if (has('nf_conntrack_tuple_taken')) {
    const f = facts.functions.find((x) => x.name === 'nf_conntrack_tuple_taken')!;
    race2 = unknownVerdict(
      `nf_conntrack_tuple_taken() (line ${f.startLine}) has no nf_ct_key_equal() branch counting 'found': unrecognised shape`,
    );
  } else {
    race2 = unknownVerdict('no nf_conntrack_tuple_taken() in this file');
  }
  if (skip.length) present.add('4e35c1cb9460');
  if (zone.length) present.add('07998281c268');
  if (gatedSkip.length) present.add('azure-952939');

  // ---- race 3
  let race3: RaceVerdict;
  const reworkEv = [...ev(split, 'rework-2020', true), ...ev(harder, 'rework-2020', true), ...ev(callsHarder, 'rework-2020', true)];
  if (rework) {
    race3 = verdict(
      'fixed',
      'rework-2020',
      reworkEv,
      'the 2020 rework (6a757c07e51f) inserts a clashing UDP entry in the REPLY direction only (IPS_NAT_CLASH), so DNAT to different endpoints no longer drops',
    );
  } else if (harder.length && split.length && !callsHarder.length) {
    race3 = verdict(
      'partial',
      'rework-2020',
      reworkEv,
      'nf_ct_resolve_clash_harder() is defined but nf_ct_resolve_clash() never calls it (or does not act on its result): clashing entries are not inserted, DNAT to different endpoints still drops',
    );
  } else if (reworkAny) {
    race3 = verdict(
      'partial',
      'rework-2020',
      reworkEv,
      `only part of the 2020 rework is here (${split.length ? '__nf_ct_resolve_clash' : 'nf_ct_resolve_clash_harder'}): clashing entries are not inserted`,
    );
  } else if (race1.verdict !== 'unknown') {
    race3 = verdict(
      'missing',
      null,
      [],
      'no nf_ct_resolve_clash_harder(): entries that can never match (DNAT to different endpoints) are dropped; fixed only by the v5.6 rework',
    );
  } else {
    race3 = unknownVerdict('clash resolution not recognised, so the 2020 rework cannot be ruled in or out');
  }

  // ---- race 4: the 2024 nfqueue race (nfqueue's own clash logic on reinject)
  const race4 = nfqueueVerdict(facts, file, rework, has, get, ev);
  if (race4.verdict === 'fixed') present.add('nfqueue-2024');

  // Damage and never-compiled / never-reached fix sites.
  const races = { race1, race2, race3, race4 };
  for (const race of ['race1', 'race2', 'race3', 'race4'] as const) {
    const fns = RACE_FUNCTIONS[race];
    const d = damageOf(facts, fns);
    if (d)
      races[race] = unknownVerdict(`${d.what}: this race cannot be read there (a damaged fix site is never counted as fixed)`, [
        {
          layer: 'source',
          file,
          function: d.fn.name,
          startLine: d.startLine,
          endLine: d.endLine,
          site: `damaged: ${d.what}`,
          supports: false,
          condition: d.fn.condition,
        },
      ]);
    const v = races[race];
    if (v.verdict === 'fixed') continue;
    const ids = new Set(RACE_SITES[race]);
    const dead = facts.deadMatches.filter((m) => ids.has(m.signature));
    const lost = unreached.filter((m) => ids.has(m.signature));
    const deadFns = facts.deadFunctions.filter((f) => fns.includes(f.name) && !names.has(f.name));
    // Fallback: never-compiled lines that name the race's functions or key identifiers.
    const deadMentions =
      dead.length || deadFns.length ? [] : facts.dead.filter((d) => RACE_WORDS[race].test(regionText(facts, d.startLine, d.endLine)));
    if (!dead.length && !lost.length && !deadFns.length && !deadMentions.length) continue;
    const notes: string[] = [];
    if (deadMentions.length)
      notes.push(
        `code that is never compiled names it: ${deadMentions.map((d) => `lines ${d.startLine}-${d.endLine} under #if ${d.condition}`).join('; ')}`,
      );
    if (deadFns.length && !dead.length)
      notes.push(
        `${deadFns.map((f) => `${f.name}() (lines ${f.startLine}-${f.endLine})`).join(', ')} only in code that is never compiled (#if ${facts.dead.find((d) => deadFns[0].nameLine >= d.startLine && deadFns[0].nameLine <= d.endLine)?.condition ?? '0'})`,
      );
    if (dead.length)
      notes.push(
        `present only in code that is never compiled: ${dead.map((m) => `${m.function}() lines ${m.startLine}-${m.endLine} under #if ${m.condition ?? '0'}`).join('; ')}`,
      );
    if (lost.length)
      notes.push(
        `present only in code that is never reached from __nf_conntrack_confirm(): ${lost.map((m) => `${m.function}() lines ${m.startLine}-${m.endLine}`).join('; ')}`,
      );
    v.evidence.push(
      ...dead.map((m) => toEvidence(file, m, undefined, false, 'never compiled: not counted')),
      ...lost.map((m) => toEvidence(file, m, undefined, false, 'never called from the confirm path: not counted')),
    );
    v.explain = `${dead.length || lost.length ? 'the fix is ' : ''}${notes.join('; ')} — not counted; ${v.explain}`;
  }
  ({ race1, race2, race3 } = races);
  const race4Final = races.race4;

  const finding = (on: boolean, evs: Evidence[], yes: string, no: string): FeatureFinding => ({
    present: on,
    evidence: evs,
    explain: on ? yes : no,
  });
  const functions: DetectionResult['functions'] = {};
  for (const f of facts.functions) {
    if (SIGNATURE_FUNCTIONS.has(f.name) || f.name === '__nf_conntrack_confirm' || f.name === 'nf_ct_key_equal') {
      const key = functions[f.name] ? `${f.name}#${f.startLine}` : f.name;
      functions[key] = { name: f.name, startLine: f.startLine, endLine: f.endLine, nameLine: f.nameLine, condition: f.condition };
    }
  }
  const t2 = performance.now();
  return {
    file,
    kernelFile: true,
    races: { race1, race2, race3, race4: race4Final },
    ...(facts.damage.length ? { damage: facts.damage } : {}),
    ...(facts.dead.length ? { neverCompiled: facts.dead } : {}),
    zoneFollowup: finding(
      zone.length > 0,
      ev(zone, '07998281c268', true),
      'the same-origin skip is limited to the same zone (07998281c268)',
      skip.length ? 'the same-origin skip has no zone check (07998281c268 missing)' : 'no same-origin skip, so no zone follow-up',
    ),
    rework2020: finding(rework, reworkEv, '2020 rework present (__nf_ct_resolve_clash, nf_ct_resolve_clash_harder)', 'no 2020 rework'),
    reverse2024: finding(
      reverse,
      [...ev(canMergeHelper, 'reverse-2024', true), ...ev(canMergeUse, 'reverse-2024', true)],
      '2024 reverse-collision merge (nf_ct_can_merge)',
      'no nf_ct_can_merge()',
    ),
    variantsPresent: [...present],
    functions,
    lines: facts.lines,
    timingMs: { parse: t1 - t0, detect: t2 - t1 },
  };
}

// Source signatures: one predicate per fix site, over one function definition. Each prefers
// the tree-sitter structure of the function and falls back to comment- and blank-free tokens
// when the function's parse has errors (e.g. #ifdef inside an expression).

import type { Node } from 'web-tree-sitter';
import type { LocatedFunction } from '../parse/locate';
import { commentsOf, normalizeTokens } from './normalize';

export interface FunctionSite {
  fn: LocatedFunction;
  /** Original text of the definition. */
  text: string;
  /** normalizeTokens(text) */
  tokens: string;
  /** function_definition node of a parse of just this function (rows relative to fn.startLine). */
  tree: Node | null;
  parseErrors: boolean;
  /** Preprocessor condition per file line (see lineConditions). */
  conditions?: (string | undefined)[];
}

/** The condition at a site's line: an in-body #ifdef as well as the function's own. */
const condAt = (site: FunctionSite, line: number): string | undefined => site.conditions?.[line] ?? site.fn.condition;

export interface SiteMatch {
  signature: string;
  function: string;
  startLine: number;
  endLine: number;
  fragment: string;
  condition?: string;
  how: 'structure' | 'tokens';
}

export interface SiteSignature {
  id: string;
  functions: readonly string[];
  describe: string;
  match(site: FunctionSite): SiteMatch | null;
}

const RESOLVERS = ['nf_ct_resolve_clash', '__nf_ct_resolve_clash'];

function descendants(node: Node, type: string, out: Node[] = []): Node[] {
  for (const c of node.namedChildren) {
    if (!c) continue;
    if (c.type === type) out.push(c);
    descendants(c, type, out);
  }
  return out;
}

const unwrap = (n: Node | null): Node | null => {
  while (n && n.type === 'parenthesized_expression') n = n.namedChild(0);
  return n;
};

function fromNode(sig: string, site: FunctionSite, node: Node): SiteMatch {
  const startLine = site.fn.startLine + node.startPosition.row;
  return {
    signature: sig,
    function: site.fn.name,
    startLine,
    endLine: site.fn.startLine + node.endPosition.row,
    fragment: normalizeTokens(node.text).slice(0, 200),
    condition: condAt(site, startLine),
    how: 'structure',
  };
}

function fromTokens(sig: string, site: FunctionSite, anchor: string, fragment: string): SiteMatch {
  const idx = site.text.indexOf(anchor);
  const line = idx < 0 ? site.fn.startLine : site.fn.startLine + (site.text.slice(0, idx).match(/\n/g)?.length ?? 0);
  return { signature: sig, function: site.fn.name, startLine: line, endLine: line, fragment: fragment.slice(0, 200), condition: condAt(site, line), how: 'tokens' };
}

function wholeFunction(sig: string, site: FunctionSite): SiteMatch {
  return { signature: sig, function: site.fn.name, startLine: site.fn.startLine, endLine: site.fn.endLine, fragment: `${site.fn.name}() defined`, condition: site.fn.condition, how: site.tree ? 'structure' : 'tokens' };
}

/** "No NAT on this entry": `(x->status & IPS_NAT_DONE_MASK) == 0`, or `!nfct_nat(x)` (v4.6-4.8). */
function isNatNotDoneTest(n: Node | null): boolean {
  n = unwrap(n);
  if (!n) return false;
  const t = normalizeTokens(n.text);
  return (n.type === 'binary_expression' && /^\(?\w+->status&IPS_NAT_DONE_MASK\)?==0$/.test(t)) || (n.type === 'unary_expression' && /^!nfct_nat\(\w+\)$/.test(t));
}

/** The same tests as token text, for functions that do not parse cleanly. */
const NAT_NOT_DONE = String.raw`(?:\(\(\w+->status&IPS_NAT_DONE_MASK\)==0\)|!nfct_nat\(\w+\))`;

/** Operator joining the "NAT not done" test to its neighbours: '&&' (old), '||' (ed07d9a). */
/** Walks shared by several signatures of one function: computed once per site. */
function memo<T>(cache: WeakMap<FunctionSite, T>, compute: (site: FunctionSite) => T): (site: FunctionSite) => T {
  return (site) => {
    let v = cache.get(site);
    if (v === undefined) cache.set(site, (v = compute(site)));
    return v;
  };
}

interface NatJoin { op: string; node: Node; other: Node }
interface SameOriginIf { node: Node; cond: string; continues: boolean; inKeyBranch: boolean; beforeFound: boolean }

const natTestJoins = memo(new WeakMap<FunctionSite, NatJoin[]>(), (site) => {
  if (!site.tree) return [];
  const out: NatJoin[] = [];
  for (const b of descendants(site.tree, 'binary_expression')) {
    const op = b.childForFieldName('operator')?.type;
    if (op !== '&&' && op !== '||') continue;
    const left = b.childForFieldName('left');
    const right = b.childForFieldName('right');
    if (isNatNotDoneTest(left) && right) out.push({ op, node: b, other: right });
    else if (isNatNotDoneTest(right) && left) out.push({ op, node: b, other: left });
  }
  return out;
});

/** Calls to `name` in `n`, `n` itself included (an operand may be the call). */
const callsTo = (n: Node, name: string): Node[] => [n, ...descendants(n, 'call_expression')].filter((c) => c.type === 'call_expression' && c.childForFieldName('function')?.text === name);

const SAME_ORIGIN_TOKENS = /nf_ct_tuple_equal\(&ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple,&\w+->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple\)|nf_ct_tuple_equal\(&\w+->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple,&ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple\)/;

/** if-statements of tuple_taken whose condition compares our ORIGINAL tuple with the found entry's. */
const sameOriginIfs = memo(new WeakMap<FunctionSite, SameOriginIf[]>(), (site) => {
  if (!site.tree) return [];
  const out: SameOriginIf[] = [];
  for (const ifs of descendants(site.tree, 'if_statement')) {
    const condNode = ifs.childForFieldName('condition');
    if (!condNode) continue;
    const cond = normalizeTokens(condNode.text);
    if (!SAME_ORIGIN_TOKENS.test(cond)) continue;
    const cons = ifs.childForFieldName('consequence');
    const consTokens = cons ? normalizeTokens(cons.text) : '';
    const continues = consTokens === 'continue;' || consTokens === '{continue;}';
    let inKeyBranch = false;
    let beforeFound = false;
    for (let p = ifs.parent; p; p = p.parent) {
      if (p.type === 'if_statement' && callsTo(p.childForFieldName('condition') ?? p, 'nf_ct_key_equal').length) {
        inKeyBranch = true;
        const found = callsTo(p, 'NF_CT_STAT_INC_ATOMIC').find((c) => /,found\)$/.test(normalizeTokens(c.text)));
        beforeFound = !!found && found.startIndex > ifs.endIndex - 1;
        break;
      }
    }
    out.push({ node: ifs, cond, continues, inKeyBranch, beforeFound });
  }
  return out;
});

/** The hash-bucket hit in tuple_taken: nf_ct_key_equal(), or the pre-4.1 spelled-out tuple test. */
const KEY_TEST = /nf_ct_key_equal\(|nf_ct_tuple_equal\(tuple,&h->tuple\)/;

const gated = (cond: string): boolean => /allow_clash|l4proto/.test(cond);

export const SIGNATURES: readonly SiteSignature[] = [
  {
    id: 'race1.match-helper',
    functions: ['nf_ct_match'],
    describe: 'nf_ct_match() compares both tuples of two entries',
    match(site) {
      const t = site.tokens;
      return /IP_CT_DIR_ORIGINAL/.test(t) && /IP_CT_DIR_REPLY/.test(t) && /nf_ct_tuple_equal\(/.test(t) ? wholeFunction(this.id, site) : null;
    },
  },
  {
    id: 'race1.resolver-merges-matching',
    functions: RESOLVERS,
    describe: 'merge when NAT was not done OR nf_ct_match(ct, loser) — the ed07d9a021df shape',
    match(site) {
      for (const j of natTestJoins(site)) if (j.op === '||' && callsTo(j.other, 'nf_ct_match').length) return fromNode(this.id, site, j.node);
      if (site.parseErrors) {
        const m = new RegExp(`${NAT_NOT_DONE}\\|\\|nf_ct_match\\(\\w+,\\w+\\)`).exec(site.tokens);
        if (m) return fromTokens(this.id, site, m[0].includes('nfct_nat') ? 'nfct_nat' : 'IPS_NAT_DONE_MASK', m[0]);
      }
      return null;
    },
  },
  {
    id: 'race1.resolver-nat-blocks-merge',
    functions: RESOLVERS,
    describe: '"NAT not done" is a required term of the merge condition — the unfixed shape',
    match(site) {
      for (const j of natTestJoins(site)) if (j.op === '&&') return fromNode(this.id, site, j.node);
      if (site.parseErrors) {
        const m = new RegExp(`${NAT_NOT_DONE}&&`).exec(site.tokens);
        if (m) return fromTokens(this.id, site, m[0].includes('nfct_nat') ? 'nfct_nat' : 'IPS_NAT_DONE_MASK', m[0]);
      }
      return null;
    },
  },
  {
    id: 'race2.same-origin-skip',
    functions: ['nf_conntrack_tuple_taken'],
    describe: 'an entry with our ORIGINAL tuple is skipped (continue) before `found` is counted — 4e35c1cb9460',
    match(site) {
      const hit = sameOriginIfs(site).find((x) => x.continues && x.inKeyBranch && x.beforeFound && !gated(x.cond));
      if (hit) return fromNode(this.id, site, hit.node);
      if (site.parseErrors) {
        const m = /if\((nf_ct_tuple_equal\([^;]*?IP_CT_DIR_ORIGINAL\]\.tuple\)(&&nf_ct_zone_equal\(\w+,zone,IP_CT_DIR_ORIGINAL\))?)\)continue;/.exec(site.tokens);
        if (m && SAME_ORIGIN_TOKENS.test(m[1]) && !gated(m[1])) return fromTokens(this.id, site, 'ignored_conntrack->tuplehash[IP_CT_DIR_ORIGINAL]', m[0]);
      }
      return null;
    },
  },
  {
    id: 'race2.zone-check',
    functions: ['nf_conntrack_tuple_taken'],
    describe: 'the same-origin skip also requires the same zone — 07998281c268',
    match(site) {
      const hit = sameOriginIfs(site).find((x) => x.continues && !gated(x.cond) && /nf_ct_zone_equal\(\w+,\w+,IP_CT_DIR_ORIGINAL\)/.test(x.cond));
      if (hit) return fromNode(this.id, site, hit.node);
      if (site.parseErrors) {
        const m = /nf_ct_tuple_equal\(&ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\][^;]*?&&nf_ct_zone_equal\(\w+,zone,IP_CT_DIR_ORIGINAL\)\)continue;/.exec(site.tokens);
        if (m) return fromTokens(this.id, site, 'nf_ct_zone_equal', m[0]);
      }
      return null;
    },
  },
  {
    id: 'race2.gated-same-origin-skip',
    functions: ['nf_conntrack_tuple_taken'],
    describe: 'a same-origin skip gated on the protocol (allow_clash / l4proto) — not the upstream shape (azure 952939 hypothesis)',
    match(site) {
      const hit = sameOriginIfs(site).find((x) => gated(x.cond));
      if (hit) return fromNode(this.id, site, hit.node);
      if (site.parseErrors) {
        const m = /if\(([^;]*allow_clash[^;]*ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\][^;]*)\)continue;/.exec(site.tokens);
        if (m) return fromTokens(this.id, site, 'allow_clash', m[0]);
      }
      return null;
    },
  },
  {
    id: 'race2.taken-without-skip',
    functions: ['nf_conntrack_tuple_taken'],
    describe: 'a key-equal hit counts `found` and returns 1 with no same-origin exception — the unfixed shape',
    match(site) {
      const t = site.tokens;
      // The key test is nf_ct_key_equal() since ~v4.1; older trees spell it out as
      // nf_ct_tuple_equal(tuple, &h->tuple) && zone check. `found` is counted either way.
      if (!KEY_TEST.test(t) || !/NF_CT_STAT_INC(?:_ATOMIC)?\(\w+,found\)/.test(t)) return null;
      if (/ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\]/.test(t)) return null;
      // Point at the key-equal branch itself when the structure is available.
      const isKeyTest = (i: Node): boolean => KEY_TEST.test(normalizeTokens((i.childForFieldName('condition') ?? i).text));
      const branch = site.tree ? descendants(site.tree, 'if_statement').find((i) => isKeyTest(i) && /,found\)/.test(normalizeTokens(i.text))) : undefined;
      if (branch) return { ...fromNode(this.id, site, branch), fragment: 'if(<key matches>){NF_CT_STAT_INC…(net,found);…return 1;}' };
      return fromTokens(this.id, site, 'found', 'nf_ct_key_equal(...) -> NF_CT_STAT_INC_ATOMIC(net, found); return 1;');
    },
  },
  {
    id: 'race2.comment-hint',
    functions: ['nf_conntrack_tuple_taken'],
    describe: 'a comment in tuple_taken defers same-origin clashes to nf_ct_resolve_clash() (secondary signal only)',
    match(site) {
      const c = commentsOf(site.text);
      return /nf_ct_resolve_clash|same[- ]origin|ORIGINAL tuple/i.test(c) ? fromTokens(this.id, site, 'nf_ct_resolve_clash', c.slice(0, 160)) : null;
    },
  },
  {
    id: 'rework.split-resolver',
    functions: ['__nf_ct_resolve_clash'],
    describe: '__nf_ct_resolve_clash() holds the merge (2020 rework)',
    match(site) {
      return wholeFunction(this.id, site);
    },
  },
  {
    id: 'rework.clash-harder',
    functions: ['nf_ct_resolve_clash_harder'],
    describe: 'nf_ct_resolve_clash_harder() inserts the loser in the REPLY direction only, marked IPS_NAT_CLASH',
    match(site) {
      return /IPS_NAT_CLASH/.test(site.tokens) ? wholeFunction(this.id, site) : null;
    },
  },
  {
    id: 'reverse.can-merge-helper',
    functions: ['nf_ct_can_merge'],
    describe: 'nf_ct_can_merge() = nf_ct_match() || nf_ct_match_reverse()',
    match(site) {
      return /nf_ct_match\(/.test(site.tokens) && /nf_ct_match_reverse\(/.test(site.tokens) ? wholeFunction(this.id, site) : null;
    },
  },
  {
    id: 'reverse.resolver-uses-can-merge',
    functions: RESOLVERS,
    describe: 'the resolver merges when nf_ct_can_merge(ct, loser_ct)',
    match(site) {
      const call = site.tree ? callsTo(site.tree, 'nf_ct_can_merge')[0] : undefined;
      if (call) return fromNode(this.id, site, call);
      return /nf_ct_can_merge\(/.test(site.tokens) ? fromTokens(this.id, site, 'nf_ct_can_merge', 'nf_ct_can_merge(...)') : null;
    },
  },
];

export function signature(id: string): SiteSignature {
  const s = SIGNATURES.find((x) => x.id === id);
  if (!s) throw new Error(`no signature ${id}`);
  return s;
}

/** Every function name any signature looks at. */
export const SIGNATURE_FUNCTIONS: ReadonlySet<string> = new Set(SIGNATURES.flatMap((s) => s.functions));

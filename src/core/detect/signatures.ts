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
  /** The parse has a syntax error in front of the definition (e.g. a mangled `static`). */
  headError?: boolean;
  /** The whole file, for names a function uses but does not declare. */
  file?: FileScope;
}

/** What the file as a whole declares: its functions' parameter counts, file-scope names. */
export interface FileScope {
  text: string;
  /** Parameter count of each function the file defines (from its head). */
  arity: Map<string, number>;
  /** Memo of the lookups below. */
  seen?: Map<string, boolean>;
}

/**
 * Constants and macros from kernel headers that the fix sites use: a name of this kind that
 * is not here, not defined by the file and nowhere else in it does not compile.
 */
const KERNEL_CONSTANTS = new Set([
  'IPS_NAT_DONE_MASK',
  'IPS_NAT_CLASH',
  'IPS_FIXED_TIMEOUT',
  'IPS_CONFIRMED_BIT',
  'IPS_DYING_BIT',
  'IPS_SRC_NAT',
  'IPS_DST_NAT',
  'IP_CT_DIR_ORIGINAL',
  'IP_CT_DIR_REPLY',
  'IP_CT_DIR_MAX',
  'NF_ACCEPT',
  'NF_DROP',
  'NF_NAT_MANIP_SRC',
  'NF_NAT_MANIP_DST',
  'HZ',
]);

/** Structs and scalar typedefs from kernel headers that these functions' parameters use. */
const KERNEL_TYPES = new Set([
  'sk_buff',
  'nf_conn',
  'nf_conntrack_tuple_hash',
  'nf_conntrack_tuple',
  'nf_conntrack_zone',
  'net',
  'hlist_nulls_node',
  'hlist_nulls_head',
  'nf_conntrack_l4proto',
  'nf_conntrack_l3proto',
  'ip_conntrack_info',
  'nf_nat_hook',
  'nf_ct_hook',
]);

/** Kernel scalar typedefs (u32, __be16, size_t ...). */
const SCALAR_TYPEDEF = /^(?:[us](?:8|16|32|64)|__[bl]e(?:16|32|64)|__u(?:8|16|32|64)|\w+_t)$/;

/** Non-overlapping occurrences of `word` as a whole identifier in `text`. */
function occurrences(text: string, word: string, atLeast: number): number {
  let n = 0;
  for (let i = text.indexOf(word); i >= 0 && n < atLeast; i = text.indexOf(word, i + word.length)) {
    const before = i ? text.charCodeAt(i - 1) : 32;
    const after = i + word.length < text.length ? text.charCodeAt(i + word.length) : 32;
    if (!isIdentChar(before) && !isIdentChar(after)) n++;
  }
  return n;
}
const isIdentChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

function fileLookup(site: FunctionSite, key: string, compute: (f: FileScope) => boolean): boolean {
  const f = site.file;
  if (!f) return true; // no file context (a lone function): nothing to check against
  const seen = (f.seen ??= new Map());
  let v = seen.get(key);
  if (v === undefined) seen.set(key, (v = compute(f)));
  return v;
}

/** A header constant or macro: known, #defined or an enum member of this file, or used elsewhere in it. */
export function knownConstant(site: FunctionSite, name: string): boolean {
  if (KERNEL_CONSTANTS.has(name)) return true;
  return fileLookup(site, `C ${name}`, (f) => occurrences(f.text, name, 2) >= 2);
}

/** Kernel functions and macros the fix statements call that a file need not define or call twice. */
const KERNEL_FUNCTIONS = new Set([
  // the fix's own helpers: a call to one the file lacks is judged by the race ("calls nf_ct_match() but this file does not define it")
  'nf_ct_match',
  'nf_ct_match_reverse',
  'nf_ct_can_merge',
  'nfct_nat',
  'hlist_nulls_add_fake',
  'hlist_nulls_add_head_rcu',
  'nf_ct_tuple_equal',
  'nf_ct_zone_equal',
  'nf_ct_get',
  'nf_ct_is_confirmed',
  'nf_ct_tuplehash_to_ctrack',
  'nf_ct_is_dying',
  'nf_ct_net',
  'nf_ct_zone',
]);

/**
 * A function the file can call: defined or declared in it, a kernel helper above, or one it
 * calls elsewhere too (a mangled name is called once and declared nowhere: an error under the
 * kernel's -Werror=implicit-function-declaration).
 */
export function knownFunction(site: FunctionSite, name: string): boolean {
  if (KERNEL_FUNCTIONS.has(name) || site.file?.arity.has(name)) return true;
  if (!/[a-z]/.test(name)) return knownConstant(site, name);
  return fileLookup(site, `F ${name}`, (f) => occurrences(f.text, name, 2) >= 2);
}

/** A type name the compiler knows: a kernel type above, or one this file names more than once. */
export function knownType(site: FunctionSite, name: string): boolean {
  if (KERNEL_TYPES.has(name)) return true;
  return fileLookup(site, `T ${name}`, (f) => occurrences(f.text, name, 2) >= 2);
}

/** A lower-case name declared at file scope (a global, a function, a macro) rather than in the function. */
export function fileDeclares(site: FunctionSite, name: string): boolean {
  return fileLookup(site, `D ${name}`, (f) => {
    if (f.arity.has(name)) return true;
    return new RegExp(
      String.raw`^(?:#[ \t]*define[ \t]+${name}\b|[A-Za-z_][^\n;(){}]*[\s*]${name}\s*(?:__\w+\s*)*(?:\[[^\]\n]*\]\s*)?[;=,]|[A-Z_]+\([^\n]*\b${name}\)\s*;)`,
      'm',
    ).test(f.text);
  });
}

/** Identifiers a definition declares: its parameters and local variables. */
export const declaredNames = memo(new WeakMap<FunctionSite, Set<string>>(), (site) => {
  const out = new Set<string>();
  if (site.tree) {
    const nameOf = (d: Node | null): void => {
      while (d) {
        if (d.type === 'identifier') {
          out.add(d.text);
          return;
        }
        if (d.type === 'function_declarator' || d.type === 'parenthesized_declarator') {
          d = d.childForFieldName('declarator') ?? d.namedChild(0);
          continue;
        }
        d = d.childForFieldName('declarator');
      }
    };
    for (const t of ['parameter_declaration', 'declaration'])
      for (const decl of descendants(site.tree, t)) for (const d of decl.childrenForFieldName('declarator')) nameOf(d);
  } else {
    // No tree: a name counts as declared when it follows a type word, `*` or `,` in a declaration.
    for (const m of site.tokens.matchAll(
      /(?:\b(?:struct \w+|int|bool|u8|u16|u32|u64|unsigned int|unsigned long|long|char|enum \w+|\w+_t)\s*\**|,\**)\s*([a-z_]\w*)\s*(?=[;,=)[])/g,
    ))
      out.add(m[1]);
  }
  return out;
});

/**
 * Every lower-case identifier an expression uses is declared in the function (enum and macro
 * constants are upper case by kernel convention): a mangled name (`loser_cu`) is no fix.
 */
export function usesDeclaredOnly(site: FunctionSite, n: Node): boolean {
  const names = declaredNames(site);
  const ids = n.type === 'identifier' ? [n] : descendants(n, 'identifier');
  const idsOk = ids.every((id) => {
    const parent = id.parent;
    // the callee of a call is a function, not a variable (its argument count is checked below)
    if (parent?.type === 'call_expression' && parent.childForFieldName('function')?.equals(id)) return knownFunction(site, id.text);
    if (!/[a-z]/.test(id.text)) return knownConstant(site, id.text);
    return names.has(id.text) || KERNEL_GLOBALS.has(id.text) || fileDeclares(site, id.text);
  });
  return idsOk && callsMatchArity(site, n);
}

/** Calls in `n` to a function this file defines pass as many arguments as it takes. */
function callsMatchArity(site: FunctionSite, n: Node): boolean {
  const arity = site.file?.arity;
  if (!arity) return true;
  for (const c of [n, ...descendants(n, 'call_expression')]) {
    if (c.type !== 'call_expression') continue;
    const callee = c.childForFieldName('function');
    const want = callee?.type === 'identifier' ? arity.get(callee.text) : undefined;
    if (want === undefined) continue;
    const args = c.childForFieldName('arguments');
    if (!args || args.namedChildren.filter((a) => a && a.type !== 'comment').length !== want) return false;
  }
  return true;
}

/** A call whose `count` arguments are distinct plain names the function declares (`nf_ct_match(ct, loser_ct)`). */
export function plainArgs(site: FunctionSite, call: Node, count: number): boolean {
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'comment') ?? [];
  if (args.length !== count || !args.every((a) => a!.type === 'identifier')) return false;
  const texts = args.map((a) => a!.text);
  const names = declaredNames(site);
  return new Set(texts).size === texts.length && texts.every((t) => names.has(t));
}

/**
 * The call's value is what the code goes on with: assigned (`ret = f(...)`), returned, a
 * declaration's initialiser or an `if`/`while` condition itself — not compared, negated or
 * discarded (`ret != f(...)`, `!f(...)`).
 */
export function resultUsed(call: Node): boolean {
  let n: Node = call;
  while (n.parent?.type === 'parenthesized_expression') n = n.parent;
  const p = n.parent;
  if (!p) return false;
  if (p.type === 'assignment_expression') return p.childForFieldName('operator')?.type === '=' && !!p.childForFieldName('right')?.equals(n);
  if (p.type === 'return_statement' || p.type === 'init_declarator') return true;
  if (p.type === 'if_statement' || p.type === 'while_statement') return !!p.childForFieldName('condition')?.equals(n);
  return false;
}

/**
 * The parameters of a whole-function site: their types are known and the body names each of
 * them (a renamed parameter leaves the body using a name nothing declares).
 */
export function paramsSound(site: FunctionSite, allUsed = true): boolean {
  if (!site.tree) return true;
  const decl = site.tree.childForFieldName('declarator');
  const fdecl = decl && (decl.type === 'function_declarator' ? decl : descendants(decl, 'function_declarator')[0]);
  const params = fdecl?.childForFieldName('parameters');
  const body = site.tree.childForFieldName('body');
  if (!params || !body) return false;
  const used = new Set(descendants(body, 'identifier').map((i) => i.text));
  for (const p of params.namedChildren) {
    if (!p || p.type === 'comment') continue;
    if (p.type !== 'parameter_declaration') return p.type === 'variadic_parameter';
    const type = p.childForFieldName('type');
    if (!type) return false;
    if (/^(?:struct|enum|union)_specifier$/.test(type.type)) {
      const name = type.childForFieldName('name')?.text;
      if (!name || !knownType(site, name)) return false;
      // kernel objects travel by pointer: `struct sk_buff skb` is a damaged `*skb`
      if (type.type !== 'enum_specifier' && p.childForFieldName('declarator')?.type !== 'pointer_declarator') return false;
    } else if (type.type === 'type_identifier' && !SCALAR_TYPEDEF.test(type.text) && !knownType(site, type.text)) return false;
    else if (type.type !== 'primitive_type' && type.type !== 'sized_type_specifier' && type.type !== 'type_identifier') return false;
    const ids = descendants(p, 'identifier');
    if (!p.childForFieldName('declarator')) {
      if (type.type === 'primitive_type' && type.text === 'void') continue;
      return false;
    }
    if (ids.length !== 1) return false;
    // unused and a name in the body that nothing declares: the parameter was renamed
    if (allUsed && !used.has(ids[0].text) && undeclaredInBody(site, body)) return false;
  }
  return true;
}

/** Header globals the bodies of these functions read. */
const KERNEL_GLOBALS = new Set(['jiffies', 'nfct_time_stamp', 'init_net', 'nf_conntrack_hash', 'nf_conntrack_htable_size']);

/**
 * Whether the body uses a variable name (not a callee, field or macro argument) that neither
 * the function nor the file declares.
 */
function undeclaredInBody(site: FunctionSite, body: Node): boolean {
  const names = declaredNames(site);
  for (const id of descendants(body, 'identifier')) {
    const t = id.text;
    if (!/[a-z]/.test(t) || names.has(t) || KERNEL_GLOBALS.has(t)) continue;
    let skip = false;
    for (let p = id.parent; p && !skip && p !== body; p = p.parent) {
      if (p.type !== 'call_expression') continue;
      const callee = p.childForFieldName('function');
      if (callee?.equals(id)) skip = true;
      // macro arguments name fields and counters (NF_CT_STAT_INC(net, found), ..._for_each_entry(h, n, head, hnnode))
      else if (callee && (!/[a-z]/.test(callee.text) || /for_each/.test(callee.text))) skip = true;
    }
    if (!skip && !fileDeclares(site, t)) return true;
  }
  return false;
}

/** The statement a node sits in (for an `if`, its condition): what must be free of mangled names. */
export function statementOf(n: Node): Node {
  let p: Node = n;
  while (p.parent && !/_statement$|^declaration$/.test(p.type)) p = p.parent;
  if (p.type === 'if_statement' || p.type === 'while_statement') return p.childForFieldName('condition') ?? p;
  return p;
}

const cleanCall = (site: FunctionSite, c: Node): boolean => usesDeclaredOnly(site, statementOf(c));

/** Token fallback of usesDeclaredOnly over the identifiers of a matched fragment. */
export function tokensUseDeclaredOnly(site: FunctionSite, ids: string[]): boolean {
  const names = declaredNames(site);
  return ids.every((id) => (/[a-z]/.test(id) ? names.has(id) || fileDeclares(site, id) : knownConstant(site, id)));
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
  return {
    signature: sig,
    function: site.fn.name,
    startLine: line,
    endLine: line,
    fragment: fragment.slice(0, 200),
    condition: condAt(site, line),
    how: 'tokens',
  };
}

/**
 * A helper counts only when its definition is whole: it parsed without a syntax error in its
 * return type, name or parameters, and has a return type.
 */
export function definitionIntact(site: FunctionSite): boolean {
  if (site.fn.damaged || site.headError) return false;
  if (!site.tree) return !site.parseErrors;
  const type = site.tree.childForFieldName('type');
  const decl = site.tree.childForFieldName('declarator');
  // A return type the compiler knows: a builtin, struct/enum/union, or a kernel scalar typedef.
  const knownType =
    !!type &&
    (/^(?:primitive_type|sized_type_specifier|struct_specifier|enum_specifier|union_specifier)$/.test(type.type) ||
      (type.type === 'type_identifier' && SCALAR_TYPEDEF.test(type.text)));
  return (
    knownType &&
    !!decl &&
    !type!.hasError &&
    !decl.hasError &&
    !site.tree.children.some(
      (c) => c && (c.isError || c.isMissing) && c.startIndex < (site.tree!.childForFieldName('body')?.startIndex ?? 0),
    )
  );
}

function wholeFunction(sig: string, site: FunctionSite): SiteMatch {
  return {
    signature: sig,
    function: site.fn.name,
    startLine: site.fn.startLine,
    endLine: site.fn.endLine,
    fragment: `${site.fn.name}() defined`,
    condition: site.fn.condition,
    how: site.tree ? 'structure' : 'tokens',
  };
}

/** "No NAT on this entry": `(x->status & IPS_NAT_DONE_MASK) == 0`, or `!nfct_nat(x)` (v4.6-4.8). */
function isNatNotDoneTest(n: Node | null, site?: FunctionSite): boolean {
  n = unwrap(n);
  if (!n) return false;
  const t = normalizeTokens(n.text);
  const shape =
    (n.type === 'binary_expression' && /^\(?\w+->status&IPS_NAT_DONE_MASK\)?==0$/.test(t)) ||
    (n.type === 'unary_expression' && /^!nfct_nat\(\w+\)$/.test(t));
  return shape && (!site || usesDeclaredOnly(site, n));
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

interface NatJoin {
  op: string;
  node: Node;
  other: Node;
}
interface SameOriginIf {
  node: Node;
  cond: string;
  continues: boolean;
  inKeyBranch: boolean;
  beforeFound: boolean;
}

const natTestJoins = memo(new WeakMap<FunctionSite, NatJoin[]>(), (site) => {
  if (!site.tree) return [];
  const out: NatJoin[] = [];
  for (const b of descendants(site.tree, 'binary_expression')) {
    const op = b.childForFieldName('operator')?.type;
    if (op !== '&&' && op !== '||') continue;
    const left = b.childForFieldName('left');
    const right = b.childForFieldName('right');
    if (isNatNotDoneTest(left, site) && right) out.push({ op, node: b, other: right });
    else if (isNatNotDoneTest(right, site) && left) out.push({ op, node: b, other: left });
  }
  return out;
});

/** Calls to `name` in `n`, `n` itself included (an operand may be the call). */
const callsTo = (n: Node, name: string): Node[] =>
  [n, ...descendants(n, 'call_expression')].filter((c) => c.type === 'call_expression' && c.childForFieldName('function')?.text === name);

const SAME_ORIGIN_TOKENS =
  /nf_ct_tuple_equal\(&ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple,&\w+->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple\)|nf_ct_tuple_equal\(&\w+->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple,&ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\]\.tuple\)/;

/** The whole condition: the comparison, optionally gated (allow_clash) or zone-checked; nothing negated. */
const SAME_ORIGIN_EXACT = new RegExp(
  `^\\((?:[\\w>-]*allow_clash&&)?(?:${SAME_ORIGIN_TOKENS.source})(?:&&nf_ct_zone_equal\\(\\w+,\\w+,IP_CT_DIR_ORIGINAL\\))?\\)$`,
);

/** if-statements of tuple_taken whose condition compares our ORIGINAL tuple with the found entry's. */
const sameOriginIfs = memo(new WeakMap<FunctionSite, SameOriginIf[]>(), (site) => {
  if (!site.tree) return [];
  const out: SameOriginIf[] = [];
  for (const ifs of descendants(site.tree, 'if_statement')) {
    const condNode = ifs.childForFieldName('condition');
    if (!condNode) continue;
    const cond = normalizeTokens(condNode.text);
    if (!SAME_ORIGIN_EXACT.test(cond) || !usesDeclaredOnly(site, condNode)) continue;
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

const SIGNATURES_EXTRA: SiteSignature[] = [];
export const SIGNATURES: readonly SiteSignature[] = [
  {
    id: 'race1.match-helper',
    functions: ['nf_ct_match'],
    describe: 'nf_ct_match() compares both tuples of two entries',
    match(site) {
      // Both directions compared between the two parameters: a - b ORIGINAL and a - b REPLY.
      const params = /^[^(]*\bnf_ct_match\(const struct nf_conn\*(\w+),const struct nf_conn\*(\w+)\)/.exec(site.tokens);
      if (!params || !definitionIntact(site) || !paramsSound(site)) return null;
      const [, a, b] = params;
      const cmp = (dir: string): RegExp =>
        new RegExp(`nf_ct_tuple_equal\\(&(${a}|${b})->tuplehash\\[${dir}\\]\\.tuple,&(${a}|${b})->tuplehash\\[${dir}\\]\\.tuple\\)`);
      const both = (dir: string): boolean => {
        const m = cmp(dir).exec(site.tokens);
        return !!m && m[1] !== m[2];
      };
      return both('IP_CT_DIR_ORIGINAL') && both('IP_CT_DIR_REPLY') ? wholeFunction(this.id, site) : null;
    },
  },
  {
    id: 'race1.resolver-merges-matching',
    functions: RESOLVERS,
    describe: 'merge when NAT was not done OR nf_ct_match(ct, loser) — the ed07d9a021df shape',
    match(site) {
      // The alternative must be the call itself (not `!nf_ct_match(...)`), with declared arguments.
      for (const j of natTestJoins(site)) {
        const other = unwrap(j.other);
        if (j.op === '||' && other && callsTo(other, 'nf_ct_match')[0] === other && plainArgs(site, other, 2) && cleanCall(site, j.node))
          return fromNode(this.id, site, j.node);
      }
      if (site.parseErrors) {
        const m = new RegExp(`${NAT_NOT_DONE}\\|\\|nf_ct_match\\((\\w+),(\\w+)\\)`).exec(site.tokens);
        if (m && tokensUseDeclaredOnly(site, [m[1], m[2]]))
          return fromTokens(this.id, site, m[0].includes('nfct_nat') ? 'nfct_nat' : 'IPS_NAT_DONE_MASK', m[0]);
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
        const m =
          /if\((nf_ct_tuple_equal\([^;]*?IP_CT_DIR_ORIGINAL\]\.tuple\)(&&nf_ct_zone_equal\(\w+,zone,IP_CT_DIR_ORIGINAL\))?)\)continue;/.exec(
            site.tokens,
          );
        if (m && SAME_ORIGIN_TOKENS.test(m[1]) && !gated(m[1]))
          return fromTokens(this.id, site, 'ignored_conntrack->tuplehash[IP_CT_DIR_ORIGINAL]', m[0]);
      }
      return null;
    },
  },
  {
    id: 'race2.zone-check',
    functions: ['nf_conntrack_tuple_taken'],
    describe: 'the same-origin skip also requires the same zone — 07998281c268',
    match(site) {
      const hit = sameOriginIfs(site).find(
        (x) => x.continues && !gated(x.cond) && /nf_ct_zone_equal\(\w+,\w+,IP_CT_DIR_ORIGINAL\)/.test(x.cond),
      );
      if (hit) return fromNode(this.id, site, hit.node);
      if (site.parseErrors) {
        const m =
          /nf_ct_tuple_equal\(&ignored_conntrack->tuplehash\[IP_CT_DIR_ORIGINAL\][^;]*?&&nf_ct_zone_equal\(\w+,zone,IP_CT_DIR_ORIGINAL\)\)continue;/.exec(
            site.tokens,
          );
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
      const branch = site.tree
        ? descendants(site.tree, 'if_statement').find((i) => isKeyTest(i) && /,found\)/.test(normalizeTokens(i.text)))
        : undefined;
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
      return /nf_ct_resolve_clash|same[- ]origin|ORIGINAL tuple/i.test(c)
        ? fromTokens(this.id, site, 'nf_ct_resolve_clash', c.slice(0, 160))
        : null;
    },
  },
  {
    id: 'rework.split-resolver',
    functions: ['__nf_ct_resolve_clash'],
    describe: '__nf_ct_resolve_clash() holds the merge (2020 rework)',
    match(site) {
      return definitionIntact(site) && paramsSound(site) ? wholeFunction(this.id, site) : null;
    },
  },
  {
    id: 'rework.clash-harder',
    functions: ['nf_ct_resolve_clash_harder'],
    describe: 'nf_ct_resolve_clash_harder() inserts the loser in the REPLY direction only, marked IPS_NAT_CLASH',
    match(site) {
      if (!definitionIntact(site) || !paramsSound(site)) return null;
      const t = site.tokens;
      // marked IPS_NAT_CLASH, ORIGINAL node only fake-added, hashed in the REPLY direction
      const shapes = [
        /\w+->status\|=(?:IPS_\w+\|)*IPS_NAT_CLASH(?:\|IPS_\w+)*;/,
        /hlist_nulls_add_fake\(&\w+->tuplehash\[IP_CT_DIR_ORIGINAL\]\.hnnode\);/,
        // (the bucket is a plain &table[index]: anything else there is not the kernel's insert)
        /(?:\w+\(&\w+->tuplehash\[IP_CT_DIR_REPLY\]\.hnnode,&\w+\[\w+\]\)|__nf_conntrack_hash_insert\(\w+,\w+,IP_CT_DIR_REPLY\));/,
      ];
      if (!shapes.every((re) => re.test(t))) return null;
      if (site.tree) {
        // each is a statement of its own (nothing joined to it), using declared names only
        const stmts = descendants(site.tree, 'expression_statement');
        const whole = (re: RegExp): RegExp => new RegExp(`^${re.source}$`);
        if (!shapes.every((re) => stmts.some((st) => whole(re).test(normalizeTokens(st.text)) && usesDeclaredOnly(site, st)))) return null;
      }
      return wholeFunction(this.id, site);
    },
  },
  {
    id: 'rework.resolver-calls-harder',
    functions: ['nf_ct_resolve_clash'],
    describe: 'nf_ct_resolve_clash() falls back to nf_ct_resolve_clash_harder() when the entries do not merge',
    match(site) {
      const call = site.tree
        ? callsTo(site.tree, 'nf_ct_resolve_clash_harder').find((c) => plainArgs(site, c, 2) && resultUsed(c) && cleanCall(site, c))
        : undefined;
      if (call) return fromNode(this.id, site, call);
      if (site.parseErrors) {
        const m = /\bnf_ct_resolve_clash_harder\((\w+),(\w+)\)/.exec(site.tokens);
        if (m && tokensUseDeclaredOnly(site, [m[1], m[2]])) return fromTokens(this.id, site, 'nf_ct_resolve_clash_harder', m[0]);
      }
      return null;
    },
  },
  {
    id: 'rework.resolver-calls-split',
    functions: ['nf_ct_resolve_clash', 'nf_ct_resolve_clash_harder'],
    describe: 'the resolver tries the merge in __nf_ct_resolve_clash()',
    match(site) {
      const call = site.tree
        ? callsTo(site.tree, '__nf_ct_resolve_clash').find((c) => plainArgs(site, c, 2) && resultUsed(c) && cleanCall(site, c))
        : undefined;
      if (call) return fromNode(this.id, site, call);
      if (site.parseErrors) {
        const m = /\b__nf_ct_resolve_clash\((\w+),(\w+)\)/.exec(site.tokens);
        if (m && tokensUseDeclaredOnly(site, [m[1], m[2]])) return fromTokens(this.id, site, '__nf_ct_resolve_clash', m[0]);
      }
      return null;
    },
  },
  {
    id: 'reverse.can-merge-helper',
    functions: ['nf_ct_can_merge'],
    describe: 'nf_ct_can_merge() = nf_ct_match() || nf_ct_match_reverse()',
    match(site) {
      if (!definitionIntact(site) || !paramsSound(site)) return null;
      // both helpers asked about the two parameters, in order
      const p = /^[^(]*\bnf_ct_can_merge\(const struct nf_conn\*(\w+),const struct nf_conn\*(\w+)\)/.exec(site.tokens);
      if (!p || p[1] === p[2]) return null;
      const args = `\\(${p[1]},${p[2]}\\)`;
      return new RegExp(`\\{return ?\\(?nf_ct_match${args}\\|\\|nf_ct_match_reverse${args}\\)?;\\}$`).test(site.tokens)
        ? wholeFunction(this.id, site)
        : null;
    },
  },
  {
    id: 'reverse.resolver-uses-can-merge',
    functions: RESOLVERS,
    describe: 'the resolver merges when nf_ct_can_merge(ct, loser_ct)',
    match(site) {
      const call = site.tree
        ? callsTo(site.tree, 'nf_ct_can_merge').find((c) => plainArgs(site, c, 2) && resultUsed(c) && cleanCall(site, c))
        : undefined;
      if (call) return fromNode(this.id, site, call);
      if (!site.parseErrors) return null;
      const m = /\bnf_ct_can_merge\((\w+),(\w+)\)/.exec(site.tokens);
      return m && tokensUseDeclaredOnly(site, [m[1], m[2]]) ? fromTokens(this.id, site, 'nf_ct_can_merge', m[0]) : null;
    },
  },
];

/** nfqueue's own clash handling on reinject: find the clashing entry, swap it in, redo NAT. */
const NFQUEUE_CLASH = (t: string): boolean => /\bnf_conntrack_find_get\(/.test(t) && /->manip_pkt\(/.test(t) && /\bnf_ct_set\(/.test(t);

SIGNATURES_EXTRA.push(
  {
    id: 'race4.nfqueue-clash-logic',
    functions: ['nf_conntrack_update', '__nf_conntrack_update'],
    describe:
      'on reinject of an unconfirmed entry, nfqueue looks up the clashing entry, swaps it in and redoes NAT via nf_nat_hook->manip_pkt (368982cd7d1b) — the race-4 shape',
    match(site) {
      if (!NFQUEUE_CLASH(site.tokens)) return null;
      const call = site.tree
        ? descendants(site.tree, 'call_expression').find((c) =>
            /->manip_pkt$/.test(normalizeTokens(c.childForFieldName('function')?.text ?? '')),
          )
        : undefined;
      if (call)
        return {
          ...fromNode(this.id, site, statementOf(call)),
          fragment: `${site.fn.name}(): nf_conntrack_find_get() -> nf_ct_set() -> nat_hook->manip_pkt()`,
        };
      return fromTokens(this.id, site, 'manip_pkt', `${site.fn.name}(): nf_conntrack_find_get() -> nf_ct_set() -> nat_hook->manip_pkt()`);
    },
  },
  {
    id: 'race4.update-without-clash-logic',
    functions: ['nf_conntrack_update'],
    describe: 'nf_conntrack_update() no longer resolves clashes itself (no __nf_conntrack_update(), no NAT redo): 8af79d3edb5f',
    match(site) {
      if (!definitionIntact(site) || !paramsSound(site, false) || site.parseErrors) return null;
      const t = site.tokens;
      if (NFQUEUE_CLASH(t) || /\b__nf_conntrack_update\(/.test(t)) return null;
      return { ...wholeFunction(this.id, site), fragment: 'nf_conntrack_update() keeps only the helper confirm' };
    },
  },
);

(SIGNATURES as SiteSignature[]).push(...SIGNATURES_EXTRA);

export function signature(id: string): SiteSignature {
  const s = SIGNATURES.find((x) => x.id === id);
  if (!s) throw new Error(`no signature ${id}`);
  return s;
}

/** Every function name any signature looks at. */
export const SIGNATURE_FUNCTIONS: ReadonlySet<string> = new Set(SIGNATURES.flatMap((s) => s.functions));

// Which lines of a C file the compiler can ever see. A branch whose condition is constant false
// (`#if 0`, `#if 0 && X`, the `#else` of `#if 1`, `#ifdef X` after the file's own `#undef X`)
// is never compiled, whatever the configuration: a fix there does not count. Conditions on
// configuration symbols stay open (unknown), so they are never treated as dead.

import { directiveCondition, lineConditions, negate } from './locate';

type Tri = number | undefined; // undefined: depends on the configuration

interface Tok {
  t: 'num' | 'id' | 'op';
  v: string;
}

function tokenize(s: string): Tok[] | null {
  const out: Tok[] = [];
  const re = /\s*(?:(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|([A-Za-z_]\w*)|(&&|\|\||==|!=|<=|>=|<<|>>|[!~()+\-*/%<>&|^?:,]))/y;
  let i = 0;
  while (i < s.length) {
    if (/^\s*$/.test(s.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return null;
    if (m[1] !== undefined) out.push({ t: 'num', v: m[1] });
    else if (m[2] !== undefined) out.push({ t: 'id', v: m[2] });
    else out.push({ t: 'op', v: m[3] });
    i = re.lastIndex;
  }
  return out;
}

/**
 * Evaluates a preprocessor condition as the locator writes it (a conjunction of branch
 * conditions, `!x` / `!(x)` negations, `defined(X)`). Returns 0/1-ish numbers when the
 * value does not depend on the configuration, undefined when it does, null when unparsable.
 * `undefs` are macros the file itself #undef'd before the condition (they are 0 / not defined).
 */
export function evaluateCondition(cond: string, undefs: ReadonlySet<string> = new Set()): Tri | null {
  const toks = tokenize(cond);
  if (!toks) return null;
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const eat = (v: string): boolean => {
    if (toks[p]?.t === 'op' && toks[p].v === v) {
      p++;
      return true;
    }
    return false;
  };
  const fail = (): never => {
    throw new Error('parse');
  };
  const primary = (): Tri => {
    const t = peek();
    if (!t) return fail();
    if (t.t === 'num') {
      p++;
      return Number(t.v);
    }
    if (t.t === 'id') {
      p++;
      if (t.v === 'defined') {
        const paren = eat('(');
        const id = peek();
        if (!id || id.t !== 'id') return fail();
        p++;
        if (paren && !eat(')')) return fail();
        return undefs.has(id.v) ? 0 : undefined;
      }
      if (eat('(')) {
        // function-like macro (IS_ENABLED(...), etc.): its value is configuration
        let depth = 1;
        while (p < toks.length && depth > 0) {
          if (toks[p].v === '(') depth++;
          else if (toks[p].v === ')') depth--;
          p++;
        }
        if (depth) return fail();
        return undefined;
      }
      return undefs.has(t.v) ? 0 : undefined;
    }
    if (eat('(')) {
      const v = ternary();
      if (!eat(')')) return fail();
      return v;
    }
    return fail();
  };
  const unary = (): Tri => {
    if (eat('!')) {
      const v = unary();
      return v === undefined ? undefined : v ? 0 : 1;
    }
    if (eat('-')) {
      const v = unary();
      return v === undefined ? undefined : -v;
    }
    if (eat('~')) {
      const v = unary();
      return v === undefined ? undefined : ~v;
    }
    if (eat('+')) return unary();
    return primary();
  };
  const arith =
    (ops: string[], next: () => Tri, f: (op: string, a: number, b: number) => number): (() => Tri) =>
    () => {
      let a = next();
      for (;;) {
        const t = peek();
        if (!t || t.t !== 'op' || !ops.includes(t.v)) return a;
        p++;
        const b = next();
        a = a === undefined || b === undefined ? undefined : f(t.v, a, b);
      }
    };
  const mul = arith(['*', '/', '%'], unary, (op, a, b) => (op === '*' ? a * b : b === 0 ? 0 : op === '/' ? Math.trunc(a / b) : a % b));
  const add = arith(['+', '-'], mul, (op, a, b) => (op === '+' ? a + b : a - b));
  const shift = arith(['<<', '>>'], add, (op, a, b) => (op === '<<' ? a << b : a >> b));
  const rel = arith(['<', '>', '<=', '>='], shift, (op, a, b) =>
    Number(op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b),
  );
  const eq = arith(['==', '!='], rel, (op, a, b) => Number(op === '==' ? a === b : a !== b));
  const band = arith(['&'], eq, (_o, a, b) => a & b);
  const bxor = arith(['^'], band, (_o, a, b) => a ^ b);
  const bor = arith(['|'], bxor, (_o, a, b) => a | b);
  const land = (): Tri => {
    let a = bor();
    while (eat('&&')) {
      const b = bor();
      a = a === 0 || b === 0 ? 0 : a === undefined || b === undefined ? undefined : 1;
    }
    return a;
  };
  const lor = (): Tri => {
    let a = land();
    while (eat('||')) {
      const b = land();
      a = (a !== undefined && a !== 0) || (b !== undefined && b !== 0) ? 1 : a === undefined || b === undefined ? undefined : 0;
    }
    return a;
  };
  const ternary = (): Tri => {
    const c = lor();
    if (!eat('?')) return c;
    const a = ternary();
    if (!eat(':')) return fail();
    const b = ternary();
    return c === undefined ? (a === b ? a : undefined) : c ? a : b;
  };
  try {
    const v = ternary();
    return p === toks.length ? v : null;
  } catch {
    return null;
  }
}

/** True when the condition can never hold (the code under it is never compiled). */
export function neverTrue(cond: string | undefined, undefs?: ReadonlySet<string>): boolean {
  if (!cond) return false;
  return evaluateCondition(cond, undefs) === 0;
}

export interface DeadRegion {
  /** 1-based inclusive lines. */
  startLine: number;
  endLine: number;
  condition: string;
}

export interface CompiledView {
  /** The text with never-compiled lines blanked (same length, same line breaks). */
  text: string;
  dead: DeadRegion[];
  /** Per-line condition (index = 1-based line), as lineConditions returns it. */
  conditions: (string | undefined)[];
}

/**
 * Blanks the lines no configuration compiles. Also honours `#undef X` written in the file
 * itself: a later `#ifdef X` (or `defined(X)`) with no `#define X` in between is dead.
 */
export function compiledView(text: string): CompiledView {
  const conditions = lineConditions(text);
  if (!/^[ \t]*#[ \t]*(?:if|el|undef)/m.test(text)) return { text, dead: [], conditions };
  const lines = text.split('\n');
  const undefs = new Set<string>();
  const stack: { conds: string[]; dead: boolean[] }[] = [];
  const cache = new Map<string, boolean>();
  const isNever = (cond: string): boolean => {
    const key = undefs.size ? `${cond}\u0000${[...undefs].join(',')}` : cond;
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = neverTrue(cond, undefs)));
    return v;
  };
  const dead: DeadRegion[] = [];
  const out: string[] = [];
  let cont = '';
  for (let line = 1; line <= lines.length; line++) {
    const raw = lines[line - 1];
    const isDead = stack.some((f) => f.dead[f.dead.length - 1]);
    // Conditional directives stay, so the #if structure of the view is the file's.
    if (isDead && !/^\s*#\s*(?:if|ifdef|ifndef|elif|else|endif)\b/.test(raw)) {
      out.push(raw.replace(/[^\r]/g, ' '));
      const cond = conditions[line] ?? '0';
      const last = dead[dead.length - 1];
      if (last && last.endLine === line - 1) last.endLine = line;
      else dead.push({ startLine: line, endLine: line, condition: cond });
    } else out.push(raw);
    const full = cont + raw.replace(/\r$/, '');
    if (full.endsWith('\\')) {
      cont = full.slice(0, -1) + ' ';
      continue;
    }
    cont = '';
    const m = /^\s*#\s*(\w+)\s*(.*)$/.exec(full);
    if (!m) continue;
    const kind = m[1];
    if (kind === 'if' || kind === 'ifdef' || kind === 'ifndef') {
      const c = directiveCondition(kind, m[2]);
      stack.push({ conds: [c], dead: [isNever(c)] });
    } else if ((kind === 'elif' || kind === 'else') && stack.length) {
      const f = stack[stack.length - 1];
      const prev = f.conds.map(negate).join(' && ');
      const c = kind === 'else' ? prev : `${prev} && ${directiveCondition('if', m[2])}`;
      f.conds.push(c);
      f.dead.push(isNever(c));
    } else if (kind === 'endif' && stack.length) stack.pop();
    else if (!isDead && (kind === 'undef' || kind === 'define')) {
      const name = /^(\w+)/.exec(m[2])?.[1];
      if (name) {
        if (kind === 'undef') undefs.add(name);
        else undefs.delete(name);
      }
    }
  }
  return { text: dead.length ? out.join('\n') : text, dead, conditions };
}

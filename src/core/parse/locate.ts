// One linear pass over a C file that finds every top-level function definition with its
// range and the preprocessor condition it sits under. It is what makes detection cheap: the
// tree-sitter parser then only sees the handful of functions the signatures need.

import type { FunctionInfo } from '../types';

export interface LocatedFunction extends FunctionInfo {
  /** Offset of the first character of the definition (return type). */
  headStart: number;
  /** The closing brace was never found (truncated file). */
  truncated: boolean;
}

interface CondFrame {
  conds: string[];
  /** Index into conds of the active branch. */
  active: number;
  depthAtOpen: number;
}

export class LineMap {
  readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  /** 1-based line of an offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  get lineCount(): number {
    return this.starts.length;
  }
}

const KEYWORD_HEADS = /\b(?:struct|union|enum)\s+\w*\s*$|=\s*$|\b(?:extern\s+"C")\s*$/;

export function conditionOf(stack: CondFrame[]): string | undefined {
  const parts = stack.map((f) => f.conds[f.active]).filter((x) => x !== '');
  return parts.length ? parts.join(' && ') : undefined;
}

function directiveCondition(kind: string, rest: string): string {
  const arg = rest.replace(/\/\*.*?\*\//g, '').replace(/\/\/.*$/, '').trim();
  if (kind === 'ifdef') return arg;
  if (kind === 'ifndef') return `!${arg}`;
  return arg.replace(/\s+/g, ' ');
}

const negate = (c: string): string => {
  if (/^!\w+$/.test(c)) return c.slice(1);
  if (/^(?:\w+|defined\(\w+\))$/.test(c)) return `!${c}`;
  return `!(${c})`;
};

/**
 * The preprocessor condition in force on each line (1-based; index 0 unused), from the same
 * #if/#ifdef/#ifndef/#elif/#else/#endif rules as the function locator. Lets a site inside a
 * function body carry the condition of an in-body #ifdef, not only its function's.
 */
export function lineConditions(text: string): (string | undefined)[] {
  const lines = text.split('\n');
  const out: (string | undefined)[] = [undefined];
  const stack: CondFrame[] = [];
  let cont = '';
  for (const raw of lines) {
    out.push(conditionOf(stack));
    const line = cont + raw.replace(/\r$/, '');
    if (line.endsWith('\\')) {
      cont = line.slice(0, -1) + ' ';
      continue;
    }
    cont = '';
    const m = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const kind = m[1];
    if (kind === 'if' || kind === 'ifdef' || kind === 'ifndef') stack.push({ conds: [directiveCondition(kind, m[2])], active: 0, depthAtOpen: 0 });
    else if ((kind === 'elif' || kind === 'else') && stack.length) {
      const f = stack[stack.length - 1];
      const prev = f.conds.map(negate).join(' && ');
      f.conds.push(kind === 'else' ? prev : `${prev} && ${directiveCondition('if', m[2])}`);
      f.active = f.conds.length - 1;
    } else if (kind === 'endif' && stack.length) stack.pop();
  }
  return out;
}

export function locateFunctions(text: string, lines: LineMap = new LineMap(text)): LocatedFunction[] {
  const out: LocatedFunction[] = [];
  const stack: CondFrame[] = [];
  let depth = 0;
  let stmtStart = -1; // first code char of the current top-level statement
  let fnStart = -1;
  let fnName = '';
  let fnNameOffset = 0;
  let fnBody = 0;
  let fnCond: string | undefined;
  let atLineStart = true;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const ch = text.charCodeAt(i);
    // newline
    if (ch === 10) {
      atLineStart = true;
      i++;
      continue;
    }
    if (ch === 32 || ch === 9 || ch === 13 || ch === 12 || ch === 11) {
      i++;
      continue;
    }
    // preprocessor directive at line start
    if (ch === 35 /* # */ && atLineStart) {
      let end = i;
      for (;;) {
        const nl = text.indexOf('\n', end);
        if (nl < 0) {
          end = n;
          break;
        }
        let k = nl - 1;
        if (text[k] === '\r') k--;
        if (text[k] === '\\') {
          end = nl + 1;
          continue;
        }
        end = nl;
        break;
      }
      const line = text.slice(i + 1, end).replace(/\\\r?\n/g, ' ');
      const m = /^\s*(\w+)\s*(.*)$/s.exec(line);
      if (m) {
        const kind = m[1];
        if (kind === 'if' || kind === 'ifdef' || kind === 'ifndef') {
          stack.push({ conds: [directiveCondition(kind, m[2])], active: 0, depthAtOpen: depth });
        } else if ((kind === 'elif' || kind === 'else') && stack.length) {
          const f = stack[stack.length - 1];
          const prev = f.conds.map(negate).join(' && ');
          f.conds.push(kind === 'else' ? prev : `${prev} && ${directiveCondition('if', m[2])}`);
          f.active = f.conds.length - 1;
          // Re-enter the branch at the depth the #if opened at (branches each open their own braces).
          if (depth !== f.depthAtOpen && fnStart < 0) depth = f.depthAtOpen;
          else if (fnStart >= 0 && depth !== f.depthAtOpen && f.depthAtOpen >= 1) depth = f.depthAtOpen;
        } else if (kind === 'endif' && stack.length) {
          stack.pop();
        }
      }
      if (depth === 0 && fnStart < 0) stmtStart = -1;
      i = end;
      continue;
    }
    atLineStart = false;
    // comments
    if (ch === 47 /* / */) {
      const next = text.charCodeAt(i + 1);
      if (next === 42) {
        const close = text.indexOf('*/', i + 2);
        i = close < 0 ? n : close + 2;
        continue;
      }
      if (next === 47) {
        const nl = text.indexOf('\n', i);
        i = nl < 0 ? n : nl;
        continue;
      }
    }
    // string and char literals
    if (ch === 34 || ch === 39) {
      let k = i + 1;
      while (k < n) {
        const c2 = text.charCodeAt(k);
        if (c2 === 92) k += 2;
        else if (c2 === ch || c2 === 10) break;
        else k++;
      }
      if (depth === 0 && stmtStart < 0) stmtStart = i;
      i = k + 1;
      continue;
    }
    if (depth === 0 && stmtStart < 0) stmtStart = i;
    if (ch === 123 /* { */) {
      if (depth === 0) {
        const head = text.slice(stmtStart, i);
        const name = functionNameOfHead(head);
        if (name) {
          fnStart = stmtStart;
          fnName = name.name;
          fnNameOffset = stmtStart + name.offset;
          fnBody = i;
          fnCond = conditionOf(stack);
        }
      }
      depth++;
    } else if (ch === 125 /* } */) {
      depth = Math.max(0, depth - 1);
      if (depth === 0) {
        if (fnStart >= 0) {
          out.push(makeFn(fnName, fnStart, fnNameOffset, fnBody, i + 1, fnCond, false, lines));
          fnStart = -1;
        }
        stmtStart = -1;
      }
    } else if (ch === 59 /* ; */ && depth === 0) {
      stmtStart = -1;
    }
    i++;
  }
  if (fnStart >= 0) out.push(makeFn(fnName, fnStart, fnNameOffset, fnBody, n, fnCond, true, lines));
  return out;
}

function makeFn(name: string, headStart: number, nameOffset: number, bodyStart: number, bodyEnd: number, condition: string | undefined, truncated: boolean, lines: LineMap): LocatedFunction {
  return {
    name,
    headStart,
    startLine: lines.lineOf(headStart),
    nameLine: lines.lineOf(nameOffset),
    endLine: lines.lineOf(Math.max(headStart, bodyEnd - 1)),
    bodyStart,
    bodyEnd,
    condition,
    truncated,
  };
}

/** The declared name if a top-level head `... name(params) [attrs]` is a function definition. */
export function functionNameOfHead(head: string): { name: string; offset: number } | null {
  const code = head.replace(/\/\*[\s\S]*?\*\//g, (m) => ' '.repeat(m.length)).replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
  if (KEYWORD_HEADS.test(code)) return null;
  const trimmed = code.replace(/\s+$/, '');
  if (!trimmed.endsWith(')')) return null;
  // first '(' at paren depth 0 that follows an identifier
  let depth = 0;
  for (let k = 0; k < code.length; k++) {
    const c = code[k];
    if (c === '(') {
      if (depth === 0) {
        const before = code.slice(0, k);
        const m = /([A-Za-z_]\w*)\s*$/.exec(before);
        if (!m) return null;
        if (/=/.test(before)) return null;
        // `(*fn)(...)` style declarators and macros like `__attribute__` have been blanked.
        return { name: m[1], offset: m.index };
      }
      depth++;
    } else if (c === ')') depth--;
  }
  return null;
}

// One linear pass over a C file that finds every top-level function definition with its
// range and the preprocessor condition it sits under. It is what makes detection cheap: the
// tree-sitter parser then only sees the handful of functions the signatures need.

import type { FunctionInfo } from '../types';

export interface LocatedFunction extends FunctionInfo {
  /** Offset of the first character of the definition (return type). */
  headStart: number;
  /** The closing brace was never found (truncated file). */
  truncated: boolean;
  /** Its braces do not balance (boundary recovered from the layout): why. */
  damaged?: string;
}

/** A region whose braces or comments do not balance; the locator recovered after it. */
export interface Damage {
  startLine: number;
  endLine: number;
  reason: string;
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

const CONTROL_WORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'do', 'else', 'case', 'goto']);
const KEYWORD_HEADS = /\b(?:struct|union|enum)\s+\w*\s*$|=\s*$|\b(?:extern\s+"C")\s*$/;

export function conditionOf(stack: CondFrame[]): string | undefined {
  const parts = stack.map((f) => f.conds[f.active]).filter((x) => x !== '');
  return parts.length ? parts.join(' && ') : undefined;
}

export function directiveCondition(kind: string, rest: string): string {
  const arg = rest
    .replace(/\/\*.*?\*\//g, '')
    .replace(/\/\/.*$/, '')
    .trim();
  if (kind === 'ifdef') return arg;
  if (kind === 'ifndef') return `!${arg}`;
  return arg.replace(/\s+/g, ' ');
}

export const negate = (c: string): string => {
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
    if (kind === 'if' || kind === 'ifdef' || kind === 'ifndef')
      stack.push({ conds: [directiveCondition(kind, m[2])], active: 0, depthAtOpen: 0 });
    else if ((kind === 'elif' || kind === 'else') && stack.length) {
      const f = stack[stack.length - 1];
      const prev = f.conds.map(negate).join(' && ');
      f.conds.push(kind === 'else' ? prev : `${prev} && ${directiveCondition('if', m[2])}`);
      f.active = f.conds.length - 1;
    } else if (kind === 'endif' && stack.length) stack.pop();
  }
  return out;
}

/** Kernel style puts nothing but labels, directives and `}` at column 0 inside a body. */
const COL0_DEFINITION = /^[A-Za-z_]\w*(?!\w*\s*:(?!:))/;

/**
 * Every top-level function. One unbalanced brace does not hide the rest of the file: a body
 * still open when a new top-level definition starts at column 0, or a `}` at column 0 that
 * leaves braces open, ends the function there (marked `damaged`, region pushed to `damage`).
 */
export function locateFunctions(text: string, lines: LineMap = new LineMap(text), damage: Damage[] = []): LocatedFunction[] {
  const out: LocatedFunction[] = [];
  const stack: CondFrame[] = [];
  let depth = 0;
  let stmtStart = -1; // first code char of the current top-level statement
  let fnStart = -1;
  let fnName = '';
  let fnNameOffset = 0;
  let fnBody = 0;
  let fnCond: string | undefined;
  let fnDamage: string | undefined;
  let atLineStart = true;
  let blockOpen = -1; // offset of the `{` that opened a top-level block that is not a function
  const closeDamaged = (end: number, reason: string): void => {
    if (fnStart >= 0) {
      const f = makeFn(fnName, fnStart, fnNameOffset, fnBody, end, fnCond, false, lines);
      f.damaged = reason;
      out.push(f);
      damage.push({ startLine: f.startLine, endLine: f.endLine, reason: `${fnName}(): ${reason}` });
    } else if (blockOpen >= 0) {
      damage.push({
        startLine: lines.lineOf(blockOpen),
        endLine: lines.lineOf(Math.max(blockOpen, end - 1)),
        reason: `a { at line ${lines.lineOf(blockOpen)} is never closed`,
      });
    }
    fnStart = -1;
    blockOpen = -1;
    depth = 0;
    stmtStart = -1;
  };
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
    const col0 = i === 0 || text.charCodeAt(i - 1) === 10;
    if (col0 && depth > 0 && ((ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95)) {
      const eol = text.indexOf('\n', i);
      const lineText = text.slice(i, eol < 0 ? n : eol);
      if (COL0_DEFINITION.test(lineText) && !/^[A-Za-z_]\w*\s*:(?!:)/.test(lineText)) {
        let end = i - 1;
        while (end > 0 && /\s/.test(text[end - 1])) end--;
        closeDamaged(end, `no closing brace before line ${lines.lineOf(i)}, where a new definition starts (an unbalanced { inside?)`);
      }
    }
    atLineStart = false;
    // comments
    if (ch === 47 /* / */) {
      const next = text.charCodeAt(i + 1);
      if (next === 42) {
        const close = text.indexOf('*/', i + 2);
        if (close < 0) {
          // An unterminated comment would swallow the rest of the file: end it at its line.
          const nl = text.indexOf('\n', i);
          damage.push({
            startLine: lines.lineOf(i),
            endLine: lines.lineOf(i),
            reason: `a /* comment at line ${lines.lineOf(i)} is never closed`,
          });
          if (fnStart >= 0) fnDamage ??= `a /* comment at line ${lines.lineOf(i)} is never closed`;
          i = nl < 0 ? n : nl;
          continue;
        }
        i = close + 2;
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
          fnDamage = undefined;
        } else blockOpen = i;
      }
      depth++;
    } else if (ch === 125 /* } */) {
      if (depth === 0) {
        // An extra `}`: the last function closed early, at a brace inside its body.
        const last = out[out.length - 1];
        const reason = `an extra } at line ${lines.lineOf(i)}`;
        if (last && !last.damaged && last.bodyEnd > (out[out.length - 2]?.bodyEnd ?? -1)) {
          last.damaged = `${reason} (its body closed early at line ${last.endLine})`;
          damage.push({ startLine: last.startLine, endLine: lines.lineOf(i), reason: `${last.name}(): ${last.damaged}` });
          last.endLine = lines.lineOf(i);
          last.bodyEnd = i + 1;
        } else damage.push({ startLine: lines.lineOf(i), endLine: lines.lineOf(i), reason });
        stmtStart = -1;
      } else if (col0 && depth > 1 && fnStart >= 0) {
        closeDamaged(i + 1, `${depth - 1} { left open when its closing } at line ${lines.lineOf(i)} is reached`);
      } else {
        depth--;
        if (depth === 0) {
          if (fnStart >= 0) {
            const f = makeFn(fnName, fnStart, fnNameOffset, fnBody, i + 1, fnCond, false, lines);
            if (fnDamage) f.damaged = fnDamage;
            out.push(f);
            fnStart = -1;
          }
          blockOpen = -1;
          stmtStart = -1;
        }
      }
    } else if (ch === 59 /* ; */ && depth === 0) {
      stmtStart = -1;
    }
    i++;
  }
  if (fnStart >= 0) out.push(makeFn(fnName, fnStart, fnNameOffset, fnBody, n, fnCond, true, lines));
  else if (blockOpen >= 0)
    damage.push({
      startLine: lines.lineOf(blockOpen),
      endLine: lines.lineOf(n),
      reason: `a { at line ${lines.lineOf(blockOpen)} is never closed`,
    });
  return out;
}

function makeFn(
  name: string,
  headStart: number,
  nameOffset: number,
  bodyStart: number,
  bodyEnd: number,
  condition: string | undefined,
  truncated: boolean,
  lines: LineMap,
): LocatedFunction {
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
        if (CONTROL_WORDS.has(m[1])) return null;
        // `(*fn)(...)` style declarators and macros like `__attribute__` have been blanked.
        return { name: m[1], offset: m.index };
      }
      depth++;
    } else if (c === ')') depth--;
  }
  return null;
}

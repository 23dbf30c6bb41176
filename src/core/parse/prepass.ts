// Length-preserving rewrite of kernel C so that tree-sitter's C grammar parses it: attribute
// macros are blanked and statement-position iterator macros become `while`. Every offset,
// row and column of the output equals the input's, so positions map back one to one.

const ATTRIBUTE_WORDS = [
  '__init',
  '__exit',
  '__cold',
  '__hot',
  'noinline',
  '__always_inline',
  '__maybe_unused',
  '__read_mostly',
  '__net_init',
  '__net_exit',
  '__must_check',
  '__visible',
  '__weak',
  '__pure',
  '__sched',
  'notrace',
  '__ref',
  '__initdata',
  '__initconst',
  '__percpu',
  '__rcu',
  '__user',
  '__iomem',
  '__force',
  '__bitwise',
  '__deprecated',
  '__cacheline_aligned',
  '__cacheline_aligned_in_smp',
  '__ro_after_init',
  '__latent_entropy',
  '__noinline_for_stack',
  '__nocfi',
  '__flatten',
  '__used',
  '__unused',
  'inline_for_stack',
  '__randomize_layout',
  '__packed',
  'asmlinkage',
  '__meminit',
  '__devinit',
  '__cpuinit',
  '__always_unused',
];
const ATTRIBUTE_RE = new RegExp(`\\b(?:${ATTRIBUTE_WORDS.join('|')})\\b`, 'g');
/** Attribute macros that take an argument list: `__aligned(8)`, `__attribute__((x))`, `__section(".x")`. */
const ATTRIBUTE_CALL_RE =
  /\b(?:__aligned|__attribute__|__section|__printf|__scanf|__malloc|__alloc_size|__counted_by|__guarded_by|__acquires|__releases|__must_hold)\s*\(/g;
const ITERATOR_RE = /^([ \t]*)(\w*for_each\w*)(\s*\()/gm;

const blank = (s: string): string => s.replace(/[^\n\r]/g, ' ');

function skipParens(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (ch === ';' || ch === '{') return -1;
  }
  return -1;
}

export function kernelPrepass(text: string): string {
  let out = text.replace(ATTRIBUTE_RE, blank);
  // Blank attribute calls together with their argument lists.
  let result = '';
  let last = 0;
  ATTRIBUTE_CALL_RE.lastIndex = 0;
  for (let m = ATTRIBUTE_CALL_RE.exec(out); m; m = ATTRIBUTE_CALL_RE.exec(out)) {
    const open = m.index + m[0].length - 1;
    const end = skipParens(out, open);
    if (end < 0) continue;
    result += out.slice(last, m.index) + blank(out.slice(m.index, end));
    last = end;
    ATTRIBUTE_CALL_RE.lastIndex = end;
  }
  out = result + out.slice(last);
  // Iterator macros at the start of a line are statements: turn them into `while`.
  out = out.replace(ITERATOR_RE, (m, indent: string, name: string, paren: string, offset: number) => {
    const prev = previousCodeChar(out, offset);
    if (prev !== '' && !';{}):'.includes(prev) && !/else\s*$/.test(out.slice(Math.max(0, offset - 12), offset))) return m;
    if (name.length < 5) return m;
    return indent + 'while' + ' '.repeat(name.length - 5) + paren;
  });
  return out;
}

/** The last non-blank character before `offset`, skipping line and block comments roughly. */
function previousCodeChar(text: string, offset: number): string {
  let i = offset - 1;
  while (i >= 0) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i--;
      continue;
    }
    if (ch === '/' && text[i - 1] === '*') {
      const start = text.lastIndexOf('/*', i - 2);
      if (start < 0) return '';
      i = start - 1;
      continue;
    }
    // A preprocessor line before the macro: look further up.
    const lineStart = text.lastIndexOf('\n', i) + 1;
    if (/^\s*#/.test(text.slice(lineStart, i + 1))) {
      i = lineStart - 1;
      continue;
    }
    const lineComment = text.slice(lineStart, i + 1).indexOf('//');
    if (lineComment >= 0) {
      i = lineStart + lineComment - 1;
      continue;
    }
    return ch;
  }
  return '';
}

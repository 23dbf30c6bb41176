// Comment-free, whitespace-free token text: two fragments match whatever the line breaks,
// indentation or comments around them.

export function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
}

/** Drops comments and every blank that does not separate two identifier characters. */
export function normalizeTokens(code: string): string {
  return stripComments(code)
    .replace(/^[ \t]*#.*$/gm, ' ')
    .replace(/\s+/g, ' ')
    .replace(/ ?([^\w ]) ?/g, '$1')
    .trim();
}

/** Comments of a code fragment, joined (a secondary signal only). */
export function commentsOf(code: string): string {
  const out: string[] = [];
  code.replace(/\/\*([\s\S]*?)\*\/|\/\/([^\n]*)/g, (_m, a: string | undefined, b: string | undefined) => {
    out.push((a ?? b ?? '').replace(/\s*\*\s*/g, ' '));
    return '';
  });
  return out.join(' ').replace(/\s+/g, ' ');
}

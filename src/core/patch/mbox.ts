// Patch and mbox files as users download them (patchwork, git format-patch, lore/public-inbox):
// split into messages (RFC 4155 "From " separator lines, mboxo and mboxrd `>From ` quoting),
// headers unfolded and RFC 2047 encoded words decoded, bodies in quoted-printable or base64
// decoded, and a series put in [PATCH n/m] order.

import { parsePatch, StructuredPatch } from 'diff';

export interface PatchMessage {
  subject: string;
  /** Commit message body (headers and diff removed). */
  body: string;
  diffText: string;
  files: StructuredPatch[];
  /** The `@@ … @@ section` heading of each hunk (jsdiff drops it): git names the function there. */
  sections: Map<StructuredPatch, string[]>;
  /** Decoded From: header, when the message has headers. */
  from?: string;
  date?: string;
  /** n and m of a `[PATCH n/m]` subject prefix. */
  series?: { n: number; m: number };
}

/**
 * An RFC 4155 separator: "From ", a sender (an address, a commit id from format-patch, or
 * public-inbox's `mboxrd@z`), then an asctime date. Looser "From " lines in a body are text.
 */
const SEPARATOR =
  /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{1,2}:\d{2}(?::\d{2})? (?:[A-Z]{2,5} )?\d{4}\s*$/;

/**
 * One string per message, in file order, each starting with its separator line when it had
 * one. `>From ` quoting is undone one level (mboxrd: `>>From ` becomes `>From `; for mboxo this
 * restores every `From ` line, the only ones it quotes).
 */
export function splitMessages(text: string): string[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const parts: string[][] = [];
  let cur: string[] = [];
  lines.forEach((l, i) => {
    if (SEPARATOR.test(l) && (i === 0 || lines[i - 1] === '' || cur.length === 0)) {
      if (cur.some((x) => x.trim())) parts.push(cur);
      cur = [l];
    } else cur.push(/^>+From /.test(l) ? l.slice(1) : l);
  });
  if (cur.some((x) => x.trim())) parts.push(cur);
  return parts.length ? parts.map((p) => p.join('\n')) : [text];
}

// ---- RFC 2047 ------------------------------------------------------------------------------

function decoder(charset: string): (b: Uint8Array) => string {
  try {
    const d = new TextDecoder(charset.toLowerCase());
    return (b) => d.decode(b);
  } catch {
    // An unknown charset is shown byte for byte rather than dropped.
    return (b) => Buffer.from(b).toString('latin1');
  }
}

function qBytes(s: string, underscoreIsSpace: boolean): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '_' && underscoreIsSpace) out.push(0x20);
    else out.push(...Buffer.from(c, 'latin1'));
  }
  return Uint8Array.from(out);
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** Decodes `=?charset?B?…?=` and `=?charset?Q?…?=` words; whitespace between two of them goes. */
export function decodeHeader(value: string): string {
  const joined = value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1');
  // Adjacent words of one charset are decoded together: a multi-byte character may be split.
  return joined.replace(/(?:=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=)+/g, (run) => {
    let out = '';
    let pending: number[] = [];
    let pendingCharset = '';
    const flush = (): void => {
      if (pending.length) out += decoder(pendingCharset)(Uint8Array.from(pending));
      pending = [];
    };
    for (const m of run.matchAll(ENCODED_WORD)) {
      const charset = m[1].split('*')[0]; // RFC 2231 language suffix
      const bytes = m[2].toUpperCase() === 'B' ? Buffer.from(m[3], 'base64') : qBytes(m[3], true);
      if (charset.toLowerCase() !== pendingCharset.toLowerCase()) flush();
      pendingCharset = charset;
      pending.push(...bytes);
    }
    flush();
    return out;
  });
}

// ---- messages ------------------------------------------------------------------------------

interface Split {
  headers: Map<string, string>;
  head: string;
  rest: string;
}

/** Headers (unfolded, decoded) when the message starts with a header block, else none. */
function splitHeaders(msg: string): Split {
  const lines = msg.split('\n');
  let i = 0;
  if (lines[0] !== undefined && SEPARATOR.test(lines[0])) i = 1;
  const start = i;
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (; i < lines.length; i++) {
    const l = lines[i];
    if (l === '') break;
    const m = /^([!-9;-~]+):[ \t]?(.*)$/.exec(l);
    if (m) {
      last = m[1].toLowerCase();
      headers.set(last, headers.has(last) ? headers.get(last)! : m[2]);
    } else if (/^[ \t]/.test(l) && last) headers.set(last, `${headers.get(last)} ${l.trim()}`);
    else return { headers: new Map(), head: '', rest: msg }; // not a header block: a plain diff
  }
  if (i === start) return { headers: new Map(), head: '', rest: msg };
  return { headers, head: lines.slice(0, i).join('\n'), rest: lines.slice(i + 1).join('\n') };
}

function decodeBody(body: string, headers: Map<string, string>): string {
  const cte = (headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  const charset = /charset="?([^";\s]+)"?/i.exec(headers.get('content-type') ?? '')?.[1] ?? 'utf-8';
  if (cte === 'quoted-printable') return decoder(charset)(qBytes(body.replace(/=\n/g, ''), false));
  if (cte === 'base64') return decoder(charset)(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
  return body;
}

/** `[PATCH v2 3/5]`, `[SRU][Bionic][PATCH 1/2]`, `[PATCH net-next 2/3]`: n and m. */
export function seriesNumber(rawSubject: string): { n: number; m: number } | undefined {
  const prefix = /^(?:\s*\[[^\]]*\])+/.exec(rawSubject)?.[0] ?? '';
  const m = /\b(\d+)\/(\d+)\s*\]/.exec(prefix);
  return m ? { n: Number(m[1]), m: Number(m[2]) } : undefined;
}

export function parseMessage(msg: string): PatchMessage {
  const { headers, rest } = splitHeaders(msg.replace(/\r\n/g, '\n'));
  const text = headers.size ? decodeBody(rest, headers) : rest;
  const rawSubject = decodeHeader(headers.get('subject') ?? '').trim();
  const subject = rawSubject.replace(/^(\[[^\]]*\]\s*)+/, '').trim();
  const diffStart = text.search(/^(diff --git |--- (a\/|\S))/m);
  const bodyEnd = diffStart < 0 ? text.length : diffStart;
  const body = text
    .slice(0, bodyEnd)
    .replace(/^---\n[\s\S]*$/m, '')
    .trim();
  let diffText = diffStart < 0 ? '' : text.slice(diffStart);
  // format-patch signature ("-- " then the git version) would read as a removed line.
  // Mailers that strip trailing blanks leave "--" before the version line.
  diffText = diffText.replace(/^-- \n[\s\S]*$/m, '').replace(/^--\n\d+(?:\.\d+)+\S*\s*$/m, '');
  const files = (diffText ? parsePatch(diffText) : []).filter((f) => f.hunks.length);
  const headings = [...diffText.matchAll(/^@@ [^@]*@@ ?(.*)$/gm)].map((m) => m[1]);
  const sections = new Map<StructuredPatch, string[]>();
  let k = 0;
  for (const f of files) {
    sections.set(f, headings.slice(k, k + f.hunks.length));
    k += f.hunks.length;
  }
  const from = headers.get('from');
  const date = headers.get('date');
  return {
    subject,
    body,
    diffText,
    files,
    sections,
    from: from ? decodeHeader(from).trim() : undefined,
    date: date?.trim(),
    series: seriesNumber(rawSubject),
  };
}

/** The messages that carry a diff, a numbered series in [PATCH n/m] order (others keep file order). */
export function parsePatchFile(text: string): PatchMessage[] {
  const msgs = splitMessages(text)
    .map(parseMessage)
    .filter((m) => m.files.length);
  if (msgs.length > 1 && msgs.every((m) => m.series))
    return msgs
      .map((m, i) => ({ m, i }))
      .sort((a, b) => a.m.series!.n - b.m.series!.n || a.i - b.i)
      .map((x) => x.m);
  return msgs;
}

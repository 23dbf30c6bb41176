// Patch and mbox files as users download them (patchwork, git format-patch, lore): split into
// messages, with subject, body and the diff part that jsdiff can parse.

import { parsePatch, StructuredPatch } from 'diff';

export interface PatchMessage {
  subject: string;
  /** Commit message body (headers and diff removed). */
  body: string;
  diffText: string;
  files: StructuredPatch[];
  /** The `@@ … @@ section` heading of each hunk (jsdiff drops it): git names the function there. */
  sections: Map<StructuredPatch, string[]>;
}

export function splitMessages(text: string): string[] {
  const norm = text.replace(/\r\n/g, '\n');
  const parts = norm.split(/^(?=From [0-9a-f]{40} )/m).filter((p) => p.trim());
  return parts.length ? parts : [norm];
}

function header(msg: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\n[ \\t]+.*)*)`, 'mi').exec(msg);
  return m ? m[1].replace(/\n[ \t]+/g, ' ').trim() : undefined;
}

export function parseMessage(msg: string): PatchMessage {
  const diffStart = msg.search(/^(diff --git |--- (a\/|\S))/m);
  const headEnd = msg.indexOf('\n\n');
  const subject = (header(msg, 'Subject') ?? '').replace(/^(\[[^\]]*\]\s*)+/, '').trim();
  const bodyFrom = /^(From |Subject:|Date:)/m.test(msg.slice(0, Math.max(0, headEnd))) && headEnd >= 0 ? headEnd + 2 : 0;
  const bodyEnd = diffStart < 0 ? msg.length : diffStart;
  const body = msg
    .slice(bodyFrom, bodyEnd)
    .replace(/^---\n[\s\S]*$/m, '')
    .trim();
  let diffText = diffStart < 0 ? '' : msg.slice(diffStart);
  // format-patch signature ("-- " then the git version) would read as a removed line.
  diffText = diffText.replace(/^-- \n[\s\S]*$/m, '');
  const files = (diffText ? parsePatch(diffText) : []).filter((f) => f.hunks.length);
  const headings = [...diffText.matchAll(/^@@ [^@]*@@ ?(.*)$/gm)].map((m) => m[1]);
  const sections = new Map<StructuredPatch, string[]>();
  let k = 0;
  for (const f of files) {
    sections.set(f, headings.slice(k, k + f.hunks.length));
    k += f.hunks.length;
  }
  return { subject, body, diffText, files, sections };
}

export function parsePatchFile(text: string): PatchMessage[] {
  return splitMessages(text).map(parseMessage).filter((m) => m.files.length);
}

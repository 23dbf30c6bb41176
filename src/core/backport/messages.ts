// Commit messages and the cover letter in the forms reviewers hold submitters to:
// Ubuntu SRU (BugLink first, upstream text kept, provenance line, submitter's sign-off last)
// and upstream stable (`[ Upstream commit <sha> ]` first). Pure functions of their inputs.

export type MessageStyle = 'sru' | 'stable';

export interface Identity {
  name: string;
  email: string;
}

/** `Name <address>` on one line, or null. Control characters (a newline would forge trailers) are refused. */
export function parseIdentity(s: string): Identity | null {
  if (/[\x00-\x1f\x7f]/.test(s.trim())) return null;
  const m = /^\s*([^<>]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(s);
  return m && m[1] ? { name: m[1], email: m[2] } : null;
}

export const formatIdentity = (i: Identity): string => `${i.name} <${i.email}>`;

/** An identity that can be written as one trailer line. */
export const isOneLineIdentity = (i: Identity): boolean => parseIdentity(formatIdentity(i)) !== null && !/[<>]/.test(i.name);

/** The short handle reviewers use in `[name: …]` notes: the mail's local part. */
export const noteHandle = (i: Identity): string => i.email.split('@')[0];

export const bugLink = (bug: number | string): string => `BugLink: https://bugs.launchpad.net/bugs/${bug}`;

export interface MessageContext {
  style: MessageStyle;
  bug?: number | string;
  signoff?: Identity;
}

/** What had to change when a pick did not apply cleanly (becomes `(backported from …)` + note). */
export interface BackportNote {
  text: string;
  /** Handle in the `[name: …]` line; defaults to the sign-off's mail local part. */
  name?: string;
}

function withSignoff(lines: string[], ctx: MessageContext): string {
  const out = [...lines];
  while (out.length && !out[out.length - 1].trim()) out.pop();
  if (ctx.signoff) {
    const so = `Signed-off-by: ${formatIdentity(ctx.signoff)}`;
    if (out[out.length - 1] !== so) out.push(so);
  }
  return out.join('\n') + '\n';
}

/** Upstream trailers stay; provenance lines of an earlier pick are dropped so ours is the only one. */
function upstreamBodyLines(body: string): string[] {
  return body
    .replace(/\r\n/g, '\n')
    .trim()
    .split('\n')
    .filter((l) => !/^\((cherry[ -]picked|backported) from commit [0-9a-f]+/i.test(l.trim()));
}

export interface PickMessageInput {
  subject: string;
  body: string;
  /** Full id of the upstream commit. */
  sha: string;
  backported?: BackportNote;
}

export function pickMessage(p: PickMessageInput, ctx: MessageContext): string {
  const lines: string[] = [p.subject, ''];
  const body = upstreamBodyLines(p.body);
  const note = p.backported
    ? `[${p.backported.name ?? (ctx.signoff ? noteHandle(ctx.signoff) : 'backport')}: ${p.backported.text}]`
    : undefined;
  if (ctx.style === 'stable') {
    lines.push(`[ Upstream commit ${p.sha} ]`, '');
    lines.push(...body);
    if (note) lines.push(note);
  } else {
    if (ctx.bug !== undefined) lines.push(bugLink(ctx.bug), '');
    lines.push(...body);
    lines.push(p.backported ? `(backported from commit ${p.sha})` : `(cherry picked from commit ${p.sha})`);
    if (note) lines.push(note);
  }
  return withSignoff(lines, ctx);
}

export interface RevertMessageInput {
  /** Subject of the commit being reverted, as it stands in the tree. */
  subject: string;
  sha: string;
  /** Why, in one or two sentences. */
  reason: string;
  /** What had to change when the revert did not apply cleanly (`[name: …]`). */
  note?: BackportNote;
}

export function revertMessage(r: RevertMessageInput, ctx: MessageContext): string {
  const lines: string[] = [`Revert "${r.subject}"`, ''];
  if (ctx.style === 'sru' && ctx.bug !== undefined) lines.push(bugLink(ctx.bug), '');
  lines.push(`This reverts commit ${r.sha}.`, '');
  lines.push(...wrap(r.reason, 72));
  if (r.note) lines.push('', `[${r.note.name ?? (ctx.signoff ? noteHandle(ctx.signoff) : 'backport')}: ${r.note.text}]`);
  const msg = withSignoff(lines, ctx);
  // A revert has no upstream trailer block: its sign-off stands apart from the prose.
  return ctx.signoff ? msg.replace(/\n(Signed-off-by: [^\n]*\n)$/, '\n\n$1') : msg;
}

/** Mail subject of patch n of m: `[SRU][Bionic][PATCH 1/4] …`, or `[PATCH 4.14 1/4] …` for stable. */
export function mailSubject(subject: string, n: number, m: number, series: string | undefined, style: MessageStyle): string {
  if (style === 'stable') return `[PATCH${series ? ` ${series}` : ''} ${n}/${m}] ${subject}`;
  return `[SRU]${series ? `[${series}]` : ''}[PATCH ${n}/${m}] ${subject}`;
}

export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

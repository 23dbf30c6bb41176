// "Is this patch applied here?" Per hunk, structurally: each hunk is looked for inside the
// function git names in its header (wherever that function now sits), on comment- and
// blank-free tokens, so line offsets, reflowed whitespace and moved functions do not matter.

import type { StructuredPatch } from 'diff';
import { normalizeTokens } from '../detect/normalize';
import { LineMap, LocatedFunction, locateFunctions } from '../parse/locate';
import { functionNameOfHead } from '../parse/locate';
import { parsePatchFile } from './mbox';

export type HunkState = 'applied' | 'not-applied' | 'conflicting';

export interface HunkReport {
  index: number;
  header: string;
  /** Function the hunk belongs to (from the hunk header or its context). */
  function?: string;
  state: HunkState;
  /** Where in the target it was found (1-based), when found. */
  line?: number;
  reason: string;
}

export interface FilePatchReport {
  path: string;
  present: boolean;
  hunks: HunkReport[];
}

export interface PatchReport {
  subject: string;
  overall: 'applied' | 'not-applied' | 'partially-applied' | 'conflicting' | 'not-applicable';
  files: FilePatchReport[];
  explain: string;
}

const stripPrefix = (p: string | undefined): string => (p ?? '').replace(/^[ab]\//, '').replace(/\t.*$/, '');

interface HunkSides {
  oldTokens: string;
  newTokens: string;
  added: string;
  removed: string;
  functionHint?: string;
}

function sides(h: StructuredPatch['hunks'][number], headerText: string): HunkSides {
  const oldL: string[] = [];
  const newL: string[] = [];
  const add: string[] = [];
  const rem: string[] = [];
  for (const l of h.lines) {
    const tag = l[0];
    const body = l.slice(1);
    if (tag === ' ') {
      oldL.push(body);
      newL.push(body);
    } else if (tag === '-') {
      oldL.push(body);
      rem.push(body);
    } else if (tag === '+') {
      newL.push(body);
      add.push(body);
    }
  }
  const section = /@@[^@]*@@\s*(.*)$/.exec(headerText)?.[1] ?? '';
  const hint = section
    ? (functionNameOfHead(section.replace(/\{.*$/, '').trim() + (section.includes(')') ? '' : ')')) ?? undefined)
    : undefined;
  return {
    oldTokens: normalizeTokens(oldL.join('\n')),
    newTokens: normalizeTokens(newL.join('\n')),
    added: normalizeTokens(add.join('\n')),
    removed: normalizeTokens(rem.join('\n')),
    functionHint: hint?.name,
  };
}

interface Scope {
  name?: string;
  tokens: string;
  startLine: number;
}

/** Search scopes in order: the hinted function(s), then the whole file. */
function scopes(text: string, fns: LocatedFunction[], hint: string | undefined, whole: string): Scope[] {
  const out: Scope[] = [];
  if (hint)
    for (const f of fns.filter((x) => x.name === hint))
      out.push({ name: f.name, tokens: normalizeTokens(text.slice(f.headStart, f.bodyEnd)), startLine: f.startLine });
  out.push({ tokens: whole, startLine: 1 });
  return out;
}

function approxLine(text: string, lines: LineMap, probe: string): number | undefined {
  // Map a token match back to a line via the first identifier-rich line of the probe.
  const first = probe.split(/[;{}]/).find((s) => s.length > 8);
  if (!first) return undefined;
  const ident = /[A-Za-z_]\w{4,}/.exec(first)?.[0];
  if (!ident) return undefined;
  const idx = text.indexOf(ident);
  return idx < 0 ? undefined : lines.lineOf(idx);
}

export function checkHunks(text: string, patch: StructuredPatch, sections: string[] = []): HunkReport[] {
  const lines = new LineMap(text);
  const fns = locateFunctions(text, lines);
  const whole = normalizeTokens(text);
  return patch.hunks.map((h, i) => {
    const headerText = `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@ ${sections[i] ?? ''}`;
    const s = sides(h, headerText);
    // a hunk that adds a whole new function belongs to that function, not to the header's
    const addedFn = /^(?:static)?[^;{}]*?\b([A-Za-z_]\w*)\(/.exec(s.added)?.[1];
    const hint = s.functionHint;
    const base: Omit<HunkReport, 'state' | 'reason'> = { index: i + 1, header: headerText.trim(), function: hint };
    for (const sc of scopes(text, fns, hint, whole)) {
      const where = sc.name ? `in ${sc.name}()` : 'in the file';
      const hasNew = s.newTokens && sc.tokens.includes(s.newTokens);
      const hasOld = s.oldTokens && sc.tokens.includes(s.oldTokens);
      if (hasNew) {
        return {
          ...base,
          state: 'applied',
          line: approxLine(text, lines, s.added || s.newTokens),
          reason: `the hunk's result is ${where}`,
        };
      }
      // The pre-image can survive where a hunk only adds code that now lives elsewhere (the
      // new function was moved): a substantial added block present anywhere wins.
      if (hasOld && s.added.length >= 40 && s.removed === '' && whole.includes(s.added)) {
        return {
          ...base,
          state: 'applied',
          line: approxLine(text, lines, s.added),
          reason: 'the added code is present, at another place than in the patch (moved)',
        };
      }
      if (hasOld)
        return {
          ...base,
          state: 'not-applied',
          line: approxLine(text, lines, s.removed || s.oldTokens),
          reason: `the hunk's pre-image is ${where}; it would apply`,
        };
    }
    // Context drifted (moved function, other neighbours): judge by the changed lines alone,
    // first inside the function the hunk adds or edits, then anywhere in the file.
    const own = scopes(text, fns, addedFn ?? hint, whole);
    const inScope = (probe: string): boolean => probe !== '' && own.some((sc) => sc.tokens.includes(probe));
    const addedHere = inScope(s.added);
    const removedHere = inScope(s.removed);
    if (addedHere && !removedHere)
      return {
        ...base,
        state: 'applied',
        line: approxLine(text, lines, s.added),
        reason: 'the added lines are present and the removed ones gone (context differs)',
      };
    if (removedHere && !addedHere)
      return {
        ...base,
        state: 'not-applied',
        reason: 'the removed lines are still there and the added ones absent, but the context differs: it would need a backport',
      };
    if (!addedHere && !removedHere && s.removed === '' && s.added !== '')
      return { ...base, state: 'not-applied', reason: 'the added lines are absent (the context differs, so it would need a backport)' };
    return {
      ...base,
      state: 'conflicting',
      reason: addedHere
        ? 'both the removed and the added lines are present'
        : 'neither side of the hunk is found: the code around it changed',
    };
  });
}

export function checkPatchText(patchText: string, readTarget: (path: string) => string | null): PatchReport[] {
  const msgs = parsePatchFile(patchText);
  if (!msgs.length) return [{ subject: '', overall: 'not-applicable', files: [], explain: 'no diff found in the patch file' }];
  return msgs.map((m) => {
    const files: FilePatchReport[] = m.files.map((f) => {
      const p = stripPrefix(f.newFileName && f.newFileName !== '/dev/null' ? f.newFileName : f.oldFileName);
      const text = readTarget(p);
      if (text === null) return { path: p, present: false, hunks: [] };
      return { path: p, present: true, hunks: checkHunks(text, f, m.sections.get(f) ?? []) };
    });
    const hunks = files.flatMap((f) => f.hunks);
    const n = (s: HunkState): number => hunks.filter((h) => h.state === s).length;
    let overall: PatchReport['overall'];
    if (!hunks.length) overall = 'not-applicable';
    else if (n('applied') === hunks.length) overall = 'applied';
    else if (n('not-applied') === hunks.length) overall = 'not-applied';
    else if (n('conflicting') === 0) overall = 'partially-applied';
    else overall = n('applied') ? 'partially-applied' : 'conflicting';
    const missing = files.filter((f) => !f.present).map((f) => f.path);
    const explain = `${n('applied')} of ${hunks.length} hunks applied, ${n('not-applied')} not applied, ${n('conflicting')} conflicting${missing.length ? `; not in this tree: ${missing.join(', ')}` : ''}`;
    return { subject: m.subject, overall, files, explain };
  });
}

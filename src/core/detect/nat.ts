// nf_nat_core.c, scanned only for the azure 952939 hypothesis: a same-origin special case on
// the NAT side that hands back the reply tuple of an already confirmed entry. Upstream never
// had one, so any hit is reported as a hypothesis, never as the upstream fix.

import { LineMap, locateFunctions } from '../parse/locate';
import type { Evidence } from '../types';
import { normalizeTokens } from './normalize';

const NAT_ENTRY_POINTS = new Set(['get_unique_tuple', 'nf_nat_used_tuple']);

export function scanNatCore(text: string, file: string): Evidence[] {
  const lines = new LineMap(text);
  const fns = locateFunctions(text, lines);
  const out: Evidence[] = [];
  for (const entryFn of fns.filter((f) => NAT_ENTRY_POINTS.has(f.name))) {
    const body = normalizeTokens(text.slice(entryFn.headStart, entryFn.bodyEnd));
    // the entry point itself, plus static helpers it calls
    const candidates = [
      entryFn,
      ...fns.filter(
        (f) => f !== entryFn && !NAT_ENTRY_POINTS.has(f.name) && body.includes(`${f.name}(`) && new RegExp(`\\b${f.name}\\(`).test(body),
      ),
    ];
    for (const f of candidates) {
      const t = normalizeTokens(text.slice(f.headStart, f.bodyEnd));
      const looksUp = /\b(?:nf_conntrack_find_get|__nf_conntrack_find|nf_conntrack_find)\(/.test(t);
      const usesReply = /tuplehash\[IP_CT_DIR_REPLY\]\.tuple/.test(t);
      if (looksUp && usesReply) {
        out.push({
          layer: 'source',
          file,
          function: f.name,
          startLine: f.startLine,
          endLine: f.endLine,
          site: `nat.same-origin-reply: ${f.name}() looks up a confirmed entry and reuses its REPLY tuple${f !== entryFn ? ` (called from ${entryFn.name}())` : ''}`,
          variant: 'azure-952939',
          supports: true,
          condition: f.condition,
          note: 'hypothesis: matches the subject of patchwork 952939 ("return the same reply tuple for matching CTs"); its code is not public',
        });
      }
    }
  }
  return dedupe(out);
}

function dedupe(ev: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return ev.filter((e) => {
    const k = `${e.function}:${e.startLine}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

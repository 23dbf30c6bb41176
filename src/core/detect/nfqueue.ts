// nfnetlink_queue.c, read for race 4: does nfqueue's reinject path call the conntrack update
// hook (nf_ct_hook->update)? Without that call the nfqueue race has nowhere to live.

import { compiledView } from '../parse/compiled';
import { LineMap, locateFunctions } from '../parse/locate';
import type { DetectionResult, Evidence } from '../types';
import { normalizeTokens } from './normalize';

export function scanNfqueue(text: string, file: string): Evidence[] {
  const live = compiledView(text.replace(/\r(?!\n)/g, '\n')).text;
  const lines = new LineMap(live);
  for (const f of locateFunctions(live, lines)) {
    const body = live.slice(f.bodyStart, f.bodyEnd);
    if (!body.includes('->update(')) continue; // (the regex below backtracks over every word)
    const m = /\b\w+->update\(\s*\w+(?:->|\.)\w+\s*(?:\.\s*net|->\s*net)?/.exec(body);
    if (!m || !/nf_ct_hook/.test(normalizeTokens(body))) continue;
    const line = lines.lineOf(f.bodyStart + m.index);
    return [
      {
        layer: 'source',
        file,
        function: f.name,
        startLine: line,
        endLine: line,
        site: `race4.nfqueue-calls-update-hook: ${f.name}() calls nf_ct_hook->update() on reinject`,
        supports: false,
        condition: f.condition,
        note: 'the path race 4 lives on: nfqueue hands reinjected packets to conntrack',
      },
    ];
  }
  return [];
}

/** Lays the nfnetlink_queue.c finding over race 4. Mutates `r`. */
export function joinNfqueue(r: DetectionResult, file: string, findings: Evidence[]): void {
  const v = r.races.race4;
  if (findings.length) {
    v.evidence.push(...findings.map((e) => ({ ...e, supports: v.verdict === 'fixed' })));
    return;
  }
  if (v.verdict === 'not-applicable' || v.verdict === 'unknown') return;
  r.races.race4 = {
    verdict: 'not-applicable',
    variant: null,
    evidence: v.evidence,
    decidedBy: 'source',
    explain: `not in this tree: ${file} never calls the conntrack update hook (nf_ct_hook->update) on reinject, so nfqueue does not hand queued packets back to conntrack`,
  };
}

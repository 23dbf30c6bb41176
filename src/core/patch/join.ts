// The patch layer: a user-supplied patch (e.g. the azure postings downloaded from patchwork)
// recognised by subject becomes evidence for its race, and can decide a verdict the source
// layer could not (952939's code is not public, so only such a patch can show its shape).

import { CATALOGUE } from '../catalogue';
import { bareSubject } from '../history/analyze';
import type { DetectionResult, Evidence, VariantId } from '../types';
import type { PatchReport } from './applied';

export function variantOfPatch(subject: string, body = ''): VariantId | undefined {
  const bare = bareSubject(subject);
  const posting = CATALOGUE.find((e) => e.patchwork && new RegExp(`\\b${e.patchwork}\\b`).test(body));
  if (posting) return posting.id;
  const hits = CATALOGUE.filter((e) => e.subject === bare);
  return (hits.find((e) => e.source === 'upstream') ?? hits[0])?.id;
}

export function joinPatchReports(r: DetectionResult, patchFile: string, reports: PatchReport[]): void {
  for (const rep of reports) {
    const variant = variantOfPatch(rep.subject);
    const entry = CATALOGUE.find((e) => e.id === variant);
    const race = entry?.races[0];
    const ev: Evidence = {
      layer: 'patch',
      file: patchFile,
      site: `${rep.subject || '(no subject)'}: ${rep.overall} (${rep.explain})`,
      variant,
      supports: rep.overall === 'applied',
      note: rep.files.flatMap((f) => f.hunks.map((h) => `hunk ${h.index} ${h.state}${h.line ? ` @${h.line}` : ''}`)).join(', '),
    };
    if (!race || !r.kernelFile) continue;
    const v = r.races[race];
    v.evidence.push(ev);
    if (rep.overall === 'applied' && (v.verdict === 'missing' || v.verdict === 'unknown')) {
      r.races[race] = {
        ...v,
        verdict: 'fixed',
        variant: variant ?? null,
        decidedBy: 'patch',
        explain: `the supplied patch "${rep.subject}" is applied here (every hunk found)${entry?.hypothesis ? '; this is the non-upstream variant, revert it before picking the upstream fix' : ''}`,
      };
      if (variant && !r.variantsPresent.includes(variant)) r.variantsPresent.push(variant);
    } else if (rep.overall === 'applied' && v.verdict === 'fixed' && v.variant !== variant && variant) {
      v.explain += `; the supplied ${variant} patch is applied as well`;
      if (!r.variantsPresent.includes(variant)) r.variantsPresent.push(variant);
    } else if (rep.overall === 'partially-applied') {
      v.explain += `; the supplied patch "${rep.subject}" is only partially applied`;
    }
  }
}

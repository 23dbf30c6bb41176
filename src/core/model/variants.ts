// Model variants: which code paths of the kernel a tree has. Each variant is a set of
// behaviour switches consulted by the step functions; nothing here says how often anything
// drops. Outcomes come from the steps acting on the table.

import type { DetectionResult, RaceVerdict, VariantId } from '../types';

export type ModelVariantId = 'none' | 'ed07d9a' | '4e35c1cb' | 'both' | 'both+zone' | 'azure' | 'rework2020' | 'reverse2024';

export interface VariantBehaviour {
  /** Clash merge rule of nf_ct_resolve_clash. old: NAT not done only; match: ed07d9a (NAT not done or nf_ct_match); canMerge: 2024 nf_ct_can_merge. */
  merge: 'old' | 'match' | 'canMerge';
  /** 4e35c1cb: nf_conntrack_tuple_taken skips an entry with the same ORIGINAL tuple. */
  skipSameOrigin: boolean;
  /** 07998281c268: ... but only in the same zone. */
  skipSameOriginZoneCheck: boolean;
  /** azure 952939 hypothesis: get_unique_tuple reuses the reply tuple of a confirmed entry with the same ORIGINAL tuple. */
  reuseMatchingReply: boolean;
  /** 6a757c07e51f: nf_ct_resolve_clash_harder (UDP, only ORIGINAL clashes -> insert REPLY only, NAT_CLASH, 1 s). */
  clashHarder: boolean;
  /** Counter era: pre2020 every clash bumps insert_failed, unresolved bump drop; post2020 insert_failed/drop count failures, clash_resolve successes. */
  counterEra: 'pre2020' | 'post2020';
}

export interface VariantInfo {
  id: ModelVariantId;
  label: string;
  commits: string[];
  hypothesis?: string;
  behaviour: VariantBehaviour;
}

const b = (v: Partial<VariantBehaviour>): VariantBehaviour => ({
  merge: 'old',
  skipSameOrigin: false,
  skipSameOriginZoneCheck: false,
  reuseMatchingReply: false,
  clashHarder: false,
  counterEra: 'pre2020',
  ...v,
});

export const MODEL_VARIANTS: readonly VariantInfo[] = [
  { id: 'none', label: 'No fix (pre-4.19 clash resolution)', commits: [], behaviour: b({}) },
  { id: 'ed07d9a', label: 'Race 1 fix only (ed07d9a021df)', commits: ['ed07d9a021df'], behaviour: b({ merge: 'match' }) },
  {
    id: '4e35c1cb',
    label: 'Race 2 fix only (4e35c1cb9460; 4.9.163/4.14.106 stable state)',
    commits: ['4e35c1cb9460'],
    behaviour: b({ skipSameOrigin: true }),
  },
  {
    id: 'both',
    label: 'Both upstream fixes (ed07d9a021df + 4e35c1cb9460)',
    commits: ['ed07d9a021df', '4e35c1cb9460'],
    behaviour: b({ merge: 'match', skipSameOrigin: true }),
  },
  {
    id: 'both+zone',
    label: 'Both fixes + zone follow-up (07998281c268)',
    commits: ['ed07d9a021df', '4e35c1cb9460', '07998281c268'],
    behaviour: b({ merge: 'match', skipSameOrigin: true, skipSameOriginZoneCheck: true }),
  },
  {
    id: 'azure',
    label: 'Ubuntu linux-azure: 937963 (= ed07d9a) + 952939 (HYPOTHESIS)',
    commits: ['azure-937963', 'azure-952939'],
    hypothesis:
      'patchwork 952939 is not public: modelled as "return the same reply tuple as a confirmed entry with the same ORIGINAL tuple" (a hypothesis, not its code)',
    behaviour: b({ merge: 'match', reuseMatchingReply: true }),
  },
  {
    id: 'rework2020',
    label: '2020 clash rework (6a757c07e51f, v5.6+) with both fixes + zone',
    commits: ['ed07d9a021df', '4e35c1cb9460', '07998281c268', '6a757c07e51f'],
    behaviour: b({ merge: 'match', skipSameOrigin: true, skipSameOriginZoneCheck: true, clashHarder: true, counterEra: 'post2020' }),
  },
  {
    id: 'reverse2024',
    label: '2024 reverse-collision merge (nf_ct_can_merge, ~v6.13)',
    commits: ['ed07d9a021df', '4e35c1cb9460', '07998281c268', '6a757c07e51f', 'reverse-2024'],
    behaviour: b({ merge: 'canMerge', skipSameOrigin: true, skipSameOriginZoneCheck: true, clashHarder: true, counterEra: 'post2020' }),
  },
];

export const MODEL_VARIANT_IDS: readonly ModelVariantId[] = MODEL_VARIANTS.map((v) => v.id);

export function variantInfo(id: ModelVariantId): VariantInfo {
  const v = MODEL_VARIANTS.find((x) => x.id === id);
  if (!v) throw new Error(`unknown model variant "${id}" (known: ${MODEL_VARIANT_IDS.join(', ')})`);
  return v;
}

export function isModelVariantId(s: string): s is ModelVariantId {
  return (MODEL_VARIANT_IDS as readonly string[]).includes(s);
}

export interface VariantMapping {
  variant: ModelVariantId;
  /** Things the model had to assume; empty only when every verdict was definite. */
  caveats: string[];
  /** true when no verdict was unknown/partial/conditional and no hypothesis is involved. */
  exact: boolean;
}

const has = (r: DetectionResult, id: VariantId) => r.variantsPresent.includes(id);

function fixed(v: RaceVerdict | undefined): boolean {
  return v?.verdict === 'fixed';
}

/**
 * Map a detection result to the model variant that runs the same code paths. A verdict other
 * than fixed/missing is modelled conservatively as missing and said so in caveats.
 */
export function modelVariantFromDetection(r: DetectionResult): VariantMapping {
  const caveats: string[] = [];
  if (!r.kernelFile) caveats.push(`not an nf_conntrack_core.c${r.reason ? ` (${r.reason})` : ''}: modelled as no fix`);
  for (const race of ['race1', 'race2', 'race3'] as const) {
    const v = r.races[race];
    if (v && v.verdict !== 'fixed' && v.verdict !== 'missing') {
      caveats.push(`${race}: verdict ${v.verdict}${v.condition ? ` (${v.condition})` : ''} - modelled as missing`);
    }
  }
  const findings = [
    ['rework2020', r.rework2020],
    ['reverse2024', r.reverse2024],
    ['zoneFollowup', r.zoneFollowup],
  ] as const;
  for (const [name, f] of findings) if (f?.present === 'unknown') caveats.push(`${name}: presence unknown - modelled as absent`);

  const reverse = r.reverse2024?.present === true || has(r, 'reverse-2024');
  const rework = r.rework2020?.present === true || has(r, 'rework-2020');
  const race1 = fixed(r.races.race1) || has(r, 'ed07d9a021df') || has(r, 'azure-937963');
  const az952 = r.races.race2?.variant === 'azure-952939' || has(r, 'azure-952939');
  const race2Up = (fixed(r.races.race2) && r.races.race2.variant !== 'azure-952939') || has(r, '4e35c1cb9460') || has(r, '07998281c268');
  const zone = r.zoneFollowup?.present === true || has(r, '07998281c268');

  let variant: ModelVariantId;
  if (reverse) variant = 'reverse2024';
  else if (rework) variant = 'rework2020';
  else if (race1 && race2Up) variant = zone ? 'both+zone' : 'both';
  else if (race1 && az952) variant = 'azure';
  else if (race1) variant = 'ed07d9a';
  else if (race2Up) variant = '4e35c1cb';
  else variant = 'none';

  if ((reverse || rework) && !(race1 && race2Up))
    caveats.push('rework found without both race fixes detected: modelled with the full rework (it contains them)');
  if (race2Up && az952) caveats.push('upstream 4e35c1cb and azure 952939 both present (952939 not reverted?): modelled as upstream');
  if (az952 && !race1) caveats.push('azure 952939 without a race-1 fix has no model variant: modelled without it');
  if (variant === 'azure') caveats.push(variantInfo('azure').hypothesis!);
  if (race2Up && !zone && !rework && !reverse) caveats.push('zone follow-up 07998281c268 not found: same-origin skip ignores zones');
  const exact = caveats.length === 0 || caveats.every((c) => c.startsWith('zone follow-up'));
  return { variant, caveats, exact };
}

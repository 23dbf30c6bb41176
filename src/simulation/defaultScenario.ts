// Which scenario the panel opens on: the first of the common race scenarios in which the
// detected code drops packets, decided by the model itself (the exhaustive engine, a few ms per
// scenario, once per variant), so a tree that still drops shows that drop first.

import { exploreScenario, type ModelVariantId } from '../core/model';
import { MODEL_VARIANT_IDS } from '../core/model/variants';
import type { DetectionSummary, RunRequest } from './protocol';

const ORDER = ['dns-snat', 'dns-vip', 'tcp-masquerade'];
const memo = new Map<ModelVariantId, string>();

export function droppingScenario(variant?: ModelVariantId): string {
  if (!variant) return ORDER[0];
  let s = memo.get(variant);
  if (!s) {
    s =
      ORDER.find((name) => {
        try {
          return exploreScenario(name, variant).dropSchedules > 0;
        } catch {
          return false;
        }
      }) ?? ORDER[0];
    memo.set(variant, s);
  }
  return s;
}

/**
 * The request a lens on a fixed race opens with: `before` (the tree without that fix) beside
 * the detected variant. Without a detection or with an unknown variant id, `req` unchanged.
 */
export function withoutFixRequest(req: RunRequest, detection: DetectionSummary | undefined, before: string | undefined): RunRequest {
  if (!before || !detection || !MODEL_VARIANT_IDS.includes(before as ModelVariantId) || before === detection.variant) return req;
  return { ...req, variants: { mode: 'manual', before: before as ModelVariantId, after: detection.variant } };
}

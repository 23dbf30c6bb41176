// Which scenario the panel opens on: the first of the common race scenarios in which the
// detected code drops packets, decided by the model itself (the exhaustive engine, a few ms per
// scenario, once per variant), so a tree that still drops shows that drop first.

import { exploreScenario, type ModelVariantId } from '../core/model';

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

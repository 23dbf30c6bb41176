// Evidence import: a node's real `conntrack -S` output beside what the model predicts for the
// tree's variant. Parsing and reading are the core's (conntrackStats.ts); this puts both into
// the panel's table shape and adds the sentences that need the variant. No vscode import.

import { interpretStats, parseConntrackStats, type ConntrackStats } from '../core/conntrackStats';
import { monteCarloScenario } from '../core/model/montecarlo';
import { getScenario } from '../core/model/scenarios';
import { variantInfo, type ModelVariantId } from '../core/model/variants';
import type { ImportedStatsView } from './protocol';
import { counterTable } from './shape';

/** What each drop cause of the model means for the backport. */
const RACE_WORDS: Record<string, string> = {
  race1: 'race 1 (clash of two NATed entries; ed07d9a021df missing)',
  race2: 'race 2 (SNAT gives the second packet another port; 4e35c1cb9460 missing)',
  race3: 'race 3 (DNAT to different endpoints; only the 2020 rework avoids the drop)',
  'port-collision': 'TCP source-port collisions in MASQUERADE (--random-fully reduces them)',
  'table-full': 'a full table (nf_conntrack_max)',
};

/** Enough trials for a stable prediction while the user waits on a paste. */
export const PREDICTION_TRIALS = 20_000;

export interface EvidenceOptions {
  /** Variant to predict for (the detected one); without it no prediction is shown. */
  variant?: ModelVariantId;
  /** Workload to predict with (the panel's scenario); a race scenario, dns-snat by default. */
  scenario?: string;
  seed?: number;
}

export function importStatsText(text: string, source: string, opts: EvidenceOptions = {}): ImportedStatsView {
  const stats: ConntrackStats = parseConntrackStats(text); // throws ConntrackStatsError with a readable message
  const columns = stats.present.length ? stats.present : [];
  const node = counterTable(
    stats.cpus.map((c) => c.counters),
    columns,
  );
  let model: ImportedStatsView['model'];
  let prediction: Parameters<typeof interpretStats>[1] = {};
  const extra: string[] = [];
  if (opts.variant) {
    const scenario = opts.scenario && getScenario(opts.scenario).kind === 'race' ? opts.scenario : 'dns-snat';
    const r = monteCarloScenario(scenario, opts.variant, { trials: PREDICTION_TRIALS, seed: opts.seed ?? 1 });
    const info = variantInfo(opts.variant);
    model = { variant: opts.variant, label: info.label, scenario, table: counterTable(r.perCpu, columns), dropRate: r.dropRate };
    prediction = { variant: opts.variant, counters: r.counters };
    const races = Object.entries(r.causes)
      .sort((a, b) => b[1] - a[1])
      .map(([c]) => c);
    if (races.length && stats.totals.drop > 0) {
      extra.push(
        `with ${opts.variant}, the model's drops on ${scenario} come from ${races.map((c) => RACE_WORDS[c] ?? c).join('; ')}: if the node runs this tree, that is the race still open`,
      );
    }
    const era = info.behaviour.counterEra;
    if (stats.present.includes('clash_resolve') && era === 'pre2020') {
      extra.push(
        `the node prints clash_resolve (a 5.6+ kernel with the 2020 rework) but the analysed tree is pre-rework (${opts.variant}): the node may not run this tree`,
      );
    } else if (!stats.present.includes('clash_resolve') && era === 'post2020' && stats.format === 'netlink') {
      extra.push(
        `the analysed tree has the 2020 rework but the node shows no clash_resolve column: an old conntrack-tools, or the node runs an older kernel`,
      );
    }
  }
  const reading = interpretStats(stats, prediction);
  return { source, format: stats.format, node, model, summary: reading.summary, sentences: [...reading.sentences, ...extra] };
}

/** A multi-line paste into a one-line input box arrives joined: split it before each cpu=N. */
export function unjoinRows(text: string): string {
  return text.includes('\n') ? text : text.replace(/\s+(?=cpu=\d)/g, '\n');
}

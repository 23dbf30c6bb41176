// "Can I drop my workaround?": the expected share of DNS lookups delayed by a resolver timeout,
// for the tree's variant and after the backport, with no mitigation and with each common one.
// Every mitigation is a knob acting on what is sent or on the rules (never on odds):
// - glibc resolv.conf single-request: A then AAAA in turn on one socket (no overlap);
// - single-request-reopen: modelled as the two queries leaving two sockets (two flows);
// - use-vc (glibc) / force_tcp (CoreDNS forward): one TCP connection per lookup;
// - musl: always parallel on one socket, ignores those options, resends every timeout/attempts;
// - NodeLocal DNSCache: the pod's query goes to a NOTRACKed node-local address, no DNAT/SNAT;
// - MASQUERADE --random-fully: the port always comes from the allocator;
// - tc netem delay on the pod egress: one qdisc releases the datagrams one after the other.

import { monteCarloScenario } from './montecarlo';
import { getScenario, type ScenarioKnobs } from './scenarios';
import type { ModelVariantId } from './variants';

/** The variant a tree has after the revert-then-cherry-pick backport (the two upstream fixes). */
export function backportTarget(v: ModelVariantId): ModelVariantId {
  return v === 'rework2020' || v === 'reverse2024' || v === 'both+zone' ? v : 'both';
}

export interface Mitigation {
  id: string;
  label: string;
  set: Partial<ScenarioKnobs>;
}

export const MITIGATIONS: readonly Mitigation[] = [
  { id: 'none', label: 'no mitigation (glibc, parallel A/AAAA on one socket)', set: {} },
  { id: 'single-request', label: 'options single-request (glibc)', set: { resolver: 'single-request' } },
  { id: 'single-request-reopen', label: 'options single-request-reopen (glibc)', set: { resolver: 'single-request-reopen' } },
  { id: 'use-vc', label: 'options use-vc / force_tcp (DNS over TCP)', set: { resolver: 'use-vc' } },
  { id: 'musl', label: 'musl resolver (ignores the options above)', set: { libc: 'musl' } },
  { id: 'nodelocal', label: 'NodeLocal DNSCache (no DNAT, NOTRACK)', set: { nodeLocalDns: true } },
  { id: 'random-fully', label: 'MASQUERADE --random-fully', set: { portMode: 'random-fully' } },
  { id: 'tc-delay', label: 'tc qdisc netem delay 1ms on the pod egress', set: { tcDelayMs: 1 } },
];

export interface MitigationRow {
  id: string;
  label: string;
  /** Share of lookups delayed by at least one timeout, before / after the backport. */
  before: number;
  after: number;
  /** Mean added latency per lookup (s). */
  meanBeforeS: number;
  meanAfterS: number;
  /** Whether the row differs from "no mitigation" after the backport by more than noise. */
  stillHelpsAfter: boolean;
}

export interface MitigationTable {
  scenario: string;
  before: ModelVariantId;
  after: ModelVariantId;
  trials: number;
  rows: MitigationRow[];
}

const noise = (p: number, n: number) => 3 * Math.sqrt(Math.max(p * (1 - p), 1 / n) / n);

export function mitigationTable(
  scenario: string,
  before: ModelVariantId,
  after: ModelVariantId,
  base: Partial<ScenarioKnobs> = {},
  trials = 50_000,
  seed = 1,
): MitigationTable {
  const preset = getScenario(scenario);
  if (preset.kind !== 'race') throw new Error(`mitigations apply to the DNS race scenarios, not ${scenario}`);
  const rows: MitigationRow[] = [];
  let none = 0;
  for (const m of MITIGATIONS) {
    const o = { ...base, ...m.set };
    const b = monteCarloScenario(scenario, before, { trials, seed, overrides: o });
    const a = before === after ? b : monteCarloScenario(scenario, after, { trials, seed, overrides: o });
    if (m.id === 'none') none = a.latency.delayedRate;
    rows.push({
      id: m.id,
      label: m.label,
      before: b.latency.delayedRate,
      after: a.latency.delayedRate,
      meanBeforeS: b.latency.meanS,
      meanAfterS: a.latency.meanS,
      stillHelpsAfter: none - a.latency.delayedRate > noise(none, trials),
    });
  }
  return { scenario, before, after, trials, rows };
}

export function renderMitigationTable(t: MitigationTable): string {
  const pct = (x: number) => `${(x * 100).toFixed(3)} %`.padStart(10);
  const lines = [
    `lookups delayed by a resolver timeout, ${t.scenario}, ${t.trials} lookups each: ${t.before} (this tree) -> ${t.after} (after the backport)`,
    `${'mitigation'.padEnd(54)} ${'before'.padStart(10)} ${'after'.padStart(10)} ${'mean s'.padStart(13)}  still needed after the backport?`,
  ];
  for (const r of t.rows) {
    const verdict =
      r.id === 'none'
        ? ''
        : r.stillHelpsAfter
          ? 'yes: it still removes delays'
          : r.after > t.rows[0].after + noise(t.rows[0].after, t.trials)
            ? 'no, and it adds delays'
            : 'no: the backport covers it';
    lines.push(
      `${r.label.padEnd(54)} ${pct(r.before)} ${pct(r.after)} ${`${r.meanBeforeS.toFixed(3)}/${r.meanAfterS.toFixed(3)}`.padStart(13)}  ${verdict}`,
    );
  }
  return lines.join('\n');
}

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

/** Why a scenario has no mitigation table, or undefined when it has one (DNS over UDP races). */
export function mitigationsUnavailable(scenario: string): string | undefined {
  const preset = getScenario(scenario);
  if (preset.kind !== 'race') return `${scenario} is a table-overflow run, not a DNS race: the resolver mitigations do not apply`;
  if (preset.knobs.proto !== 'udp') return `${scenario} races TCP connects: the resolver mitigations apply to DNS over UDP`;
  return undefined;
}

/** One mitigation's row: each call is independent, so a caller may yield between rows. */
export function mitigationRow(
  m: Mitigation,
  scenario: string,
  before: ModelVariantId,
  after: ModelVariantId,
  base: Partial<ScenarioKnobs>,
  trials: number,
  seed: number,
  noneAfter: number,
): MitigationRow {
  // The row's own settings win over the base, except that the base's non-mitigation knobs stay.
  const o = { ...base, ...NO_MITIGATION, ...m.set };
  const b = monteCarloScenario(scenario, before, { trials, seed, overrides: o });
  const a = before === after ? b : monteCarloScenario(scenario, after, { trials, seed, overrides: o });
  const none = m.id === 'none' ? a.latency.delayedRate : noneAfter;
  return {
    id: m.id,
    label: m.label,
    before: b.latency.delayedRate,
    after: a.latency.delayedRate,
    meanBeforeS: b.latency.meanS,
    meanAfterS: a.latency.meanS,
    stillHelpsAfter: none - a.latency.delayedRate > noise(none, trials),
  };
}

/** A mitigation row's verdict after the backport, against the "no mitigation" row. */
export function mitigationVerdict(
  r: MitigationRow,
  none: MitigationRow,
  trials: number,
): 'baseline' | 'still needed' | 'can be dropped' | 'adds delays' {
  if (r.id === 'none') return 'baseline';
  if (r.stillHelpsAfter) return 'still needed';
  return r.after > none.after + noise(none.after, trials) ? 'adds delays' : 'can be dropped';
}

/**
 * What "no mitigation" means for every row: glibc, parallel queries on one socket, the VIP path
 * through DNAT, the port mode of the rule, no tc delay. A row sets only its own mitigation on top,
 * so the rows compare one workaround at a time whatever the form had set.
 */
const NO_MITIGATION: Partial<ScenarioKnobs> = { resolver: 'default', libc: 'glibc', nodeLocalDns: false, tcDelayMs: 0 };

export function mitigationTable(
  scenario: string,
  before: ModelVariantId,
  after: ModelVariantId,
  base: Partial<ScenarioKnobs> = {},
  trials = 50_000,
  seed = 1,
): MitigationTable {
  const why = mitigationsUnavailable(scenario);
  if (why) throw new Error(why);
  const rows: MitigationRow[] = [];
  let none = 0;
  for (const m of MITIGATIONS) {
    const r = mitigationRow(m, scenario, before, after, base, trials, seed, none);
    if (m.id === 'none') none = r.after;
    rows.push(r);
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
    const verdict = {
      baseline: '',
      'still needed': 'yes: it still removes delays',
      'adds delays': 'no, and it adds delays',
      'can be dropped': 'no: the backport covers it',
    }[mitigationVerdict(r, t.rows[0], t.trials)];
    lines.push(
      `${r.label.padEnd(54)} ${pct(r.before)} ${pct(r.after)} ${`${r.meanBeforeS.toFixed(3)}/${r.meanAfterS.toFixed(3)}`.padStart(13)}  ${verdict}`,
    );
  }
  return lines.join('\n');
}

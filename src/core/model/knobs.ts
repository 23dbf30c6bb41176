// Every scenario knob as `key=value`: the names, types and ranges the CLI's --set accepts, with
// one clear message per bad value. Nested knobs use dots (prefill.udp, whatIf.softTimeout).
// The timed overflow run has its own table knobs (table.max, table.buckets, table.assured,
// table.nonAssured) because the scenario's max/buckets belong to its small race form.

import { getScenario, type ScenarioKnobs, type ScenarioPreset } from './scenarios';

type Spec =
  | { kind: 'int'; min: number; max: number; help: string }
  | { kind: 'num'; min: number; max: number; help: string }
  | { kind: 'bool'; help: string }
  | { kind: 'enum'; values: readonly string[]; help: string };

const int = (min: number, max: number, help: string): Spec => ({ kind: 'int', min, max, help });
const num = (min: number, max: number, help: string): Spec => ({ kind: 'num', min, max, help });
const bool = (help: string): Spec => ({ kind: 'bool', help });
const oneOf = (values: readonly string[], help: string): Spec => ({ kind: 'enum', values, help });

export const KNOB_SPECS: Record<string, Spec> = {
  packets: int(1, 4, 'racing packets'),
  proto: oneOf(['udp', 'tcp'], 'protocol of the racing packets'),
  sameSocket: bool('all packets leave one socket (same ORIGINAL tuple)'),
  endpoints: int(0, 16, 'DNAT endpoints behind the VIP (0: no DNAT rule)'),
  dnatMode: oneOf(['random', 'nth'], 'statistic --mode random, or round-robin (statistic nth / numgen inc)'),
  serial: bool('one thread sends the packets back to back'),
  snat: oneOf(['masquerade', 'null-binding', 'none'], 'SNAT rule: MASQUERADE, nat table loaded without a rule, or no nat table'),
  portMode: oneOf(['default', 'random', 'random-fully'], 'MASQUERADE port mode (--random, --random-fully)'),
  natEra: oneOf(['auto', 'rover', 'random'], 'port allocator era (rover before 2022, random after)'),
  toPorts: bool('MASQUERADE --to-ports: the original port is kept only inside the range'),
  portRange: int(1, 64512, 'NAT source port range size'),
  occupiedPorts: int(0, 64511, 'ports of the range held by other flows to the destination'),
  randomSourcePorts: bool('TCP: each client draws its source port per trial'),
  zones: bool('each packet in its own conntrack zone'),
  reverse: bool("second packet is the peer's, reversed"),
  cpus: int(1, 8, 'CPUs'),
  skewUs: num(0, 1e6, 'send skew of later packets (us)'),
  stepCostUs: num(0.001, 1e6, 'mean cost of one step (us)'),
  dnatCost: num(0, 100, 'cost of the DNAT step relative to the others'),
  resolver: oneOf(['default', 'single-request', 'single-request-reopen', 'use-vc'], 'glibc resolv.conf option'),
  libc: oneOf(['glibc', 'musl'], "the client's resolver library"),
  nodeLocalDns: bool('NodeLocal DNSCache (NOTRACKed node-local address, no DNAT)'),
  tcDelayMs: num(0, 1000, 'tc netem delay on the pod egress (ms)'),
  timeoutS: num(0.01, 60, 'resolver timeout per lost answer (s); first SYN retransmission for TCP'),
  attempts: int(1, 10, 'resolver attempts'),
  max: int(0, 1e6, 'nf_conntrack_max of the race form (0: unlimited)'),
  buckets: int(1, 1 << 20, 'hash buckets of the race form'),
  earlyDropEra: oneOf(['auto', 'legacy', 'chain', 'gc'], 'early_drop era'),
  'prefill.assuredTcp': int(0, 1e5, 'race form: assured TCP entries in the table'),
  'prefill.udp': int(0, 1e5, 'race form: non-assured UDP entries'),
  'prefill.timeWait': int(0, 1e5, 'race form: TCP TIME_WAIT entries'),
  'prefill.idleTcp': int(0, 1e5, 'race form: idle established TCP entries'),
  'whatIf.earlyDropClosing': bool('what-if: early drop also takes closing TCP'),
  'whatIf.softTimeout': num(0, 1e6, 'what-if: idle entries evictable while full (s, 0 off)'),
  'whatIf.adaptiveThreshold': num(0, 0.99, 'what-if: shrink timeouts above this occupancy (0 off)'),
  flowRate: num(0.001, 1e6, 'overflow: new flows per second'),
  udpFraction: num(0, 1, 'overflow: share of new flows that are DNS (UDP)'),
  durationS: num(0.001, 86400, 'overflow: simulated seconds'),
  tcpLifetimeS: num(0.001, 1e6, 'overflow: mean TCP flow lifetime (s)'),
  'table.max': int(1, 1 << 22, 'overflow timed run: nf_conntrack_max'),
  'table.buckets': int(1, 1 << 22, 'overflow timed run: hash buckets'),
  'table.assured': int(0, 1 << 22, 'overflow timed run: pre-filled assured (established TCP) entries'),
  'table.nonAssured': int(0, 1 << 22, 'overflow timed run: pre-filled non-assured (replied UDP) entries'),
};

export interface TableKnobs {
  max?: number;
  buckets?: number;
  assured?: number;
  nonAssured?: number;
}

export interface ParsedKnobs {
  overrides: Partial<ScenarioKnobs>;
  table: TableKnobs;
  errors: string[];
}

/** Parse `key=value` settings against the preset; every bad one gets its own message. */
export function parseKnobSettings(pairs: readonly string[], preset: ScenarioPreset = getScenario('dns-snat')): ParsedKnobs {
  const overrides: Record<string, unknown> = {};
  const table: Record<string, number> = {};
  const errors: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      errors.push(`--set ${pair}: expected key=value`);
      continue;
    }
    const key = pair.slice(0, eq).trim();
    const raw = pair.slice(eq + 1).trim();
    const spec = KNOB_SPECS[key];
    if (!spec) {
      errors.push(`--set ${key}: unknown knob (known: ${Object.keys(KNOB_SPECS).join(', ')})`);
      continue;
    }
    let v: unknown;
    if (spec.kind === 'bool') {
      if (raw === 'true' || raw === '1' || raw === 'on') v = true;
      else if (raw === 'false' || raw === '0' || raw === 'off') v = false;
      else {
        errors.push(`--set ${key}=${raw}: must be true or false`);
        continue;
      }
    } else if (spec.kind === 'enum') {
      if (!spec.values.includes(raw)) {
        errors.push(`--set ${key}=${raw}: must be one of ${spec.values.join(', ')}`);
        continue;
      }
      v = raw;
    } else {
      const n = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(n)) {
        errors.push(`--set ${key}=${raw}: not a number`);
        continue;
      }
      if (spec.kind === 'int' && !Number.isInteger(n)) {
        errors.push(`--set ${key}=${raw}: must be a whole number`);
        continue;
      }
      if (n < spec.min || n > spec.max) {
        errors.push(`--set ${key}=${raw}: outside ${spec.min}..${spec.max}`);
        continue;
      }
      v = n;
    }
    const [head, sub] = key.split('.');
    if (head === 'table') table[sub] = v as number;
    else if (sub) {
      const base = (overrides[head] ?? { ...(preset.knobs[head as keyof ScenarioKnobs] as object) }) as Record<string, unknown>;
      base[sub] = v;
      overrides[head] = base;
    } else overrides[key] = v;
  }
  const k = { ...preset.knobs, ...overrides } as ScenarioKnobs;
  if (k.occupiedPorts > 0 && k.occupiedPorts >= k.portRange)
    errors.push(`occupiedPorts (${k.occupiedPorts}) must be below portRange (${k.portRange})`);
  if (k.dnatMode === 'nth' && k.endpoints < 2 && 'dnatMode' in overrides) errors.push('dnatMode=nth needs endpoints >= 2');
  if (k.proto === 'tcp' && k.sameSocket && 'proto' in overrides)
    errors.push('proto=tcp with sameSocket=true: two TCP connects cannot share one socket');
  if (k.nodeLocalDns && k.proto === 'tcp') errors.push('nodeLocalDns applies to DNS over UDP');
  return { overrides: overrides as Partial<ScenarioKnobs>, table, errors };
}

/** One line per knob for --help / `simulate --knobs`. */
export function knobHelp(): string[] {
  return Object.entries(KNOB_SPECS).map(([k, s]) => {
    const range = s.kind === 'bool' ? 'true|false' : s.kind === 'enum' ? s.values.join('|') : `${s.min}..${s.max}`;
    return `${k.padEnd(26)} ${range.padEnd(44)} ${s.help}`;
  });
}

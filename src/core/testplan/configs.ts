// The test plan's configurations: what the router does (its iptables rules), which reproducer
// mode races through it, where the packets go, and which model scenario (with which knob
// overrides) predicts the same thing. One definition for the VM and the probe: each
// configuration becomes a small shell file (`configShell`) that guest/ctb-config.sh sources in
// the router's fresh namespace topology.

import type { ScenarioKnobs } from '../model/scenarios';

/**
 * Reproducer modes of ctb_race: pair (same-flow: one socket, two threads), serial (the control),
 * ports (different-flow: two client addresses bound to one source port), udp2 / tcp2
 * (different-flow: two sockets of one client address to a fresh destination per trial).
 */
export type RaceMode = 'pair' | 'serial' | 'ports' | 'udp2' | 'tcp2';

/**
 * Where the packets go: the Service VIP (DNAT rules only), server 1 directly, or `span`: a fresh
 * destination per trial out of a /12 (a million addresses) that server 1 answers as its own (a local route), so flows
 * of earlier trials never hold the NAT ports of a later one.
 */
export type RaceDst = 'vip' | 's1' | 'span';

export interface TestConfig {
  name: string;
  title: string;
  /** Reproducer mode in ctb_race. */
  mode: RaceMode;
  dst: RaceDst;
  /**
   * The router's rules: iptables arguments, one rule per entry, with placeholders {VIP}, {S1}
   * (server 1), {S2} (server 2), {OUT} (each server-side interface: the rule is added once per
   * interface), {OUT1}, {OUT2}, {IN} (the client-side interface). Tokens are plain words.
   */
  rules: string[];
  /** Model scenario for the same router and packets; null when the model has none. */
  model: { scenario: string; overrides?: Partial<ScenarioKnobs>; note?: string } | null;
  /** The control: must never clash, whatever the kernel. */
  control?: boolean;
}

const MASQ = '-t nat -A POSTROUTING -o {OUT} -j MASQUERADE';
const DNAT1 = '-t nat -A PREROUTING -d {VIP} -p udp --dport 53 -j DNAT --to-destination {S1}:53';
const dnat2 = (stat: string) => [
  `-t nat -A PREROUTING -d {VIP} -p udp --dport 53 -m statistic ${stat} -j DNAT --to-destination {S1}:53`,
  '-t nat -A PREROUTING -d {VIP} -p udp --dport 53 -j DNAT --to-destination {S2}:53',
];
const RANDOM = '--mode random --probability 0.5';
const NTH = '--mode nth --every 2 --packet 0';
/** A conntrack match makes the router track flows without loading the nat table. */
const TRACK = '-t filter -A FORWARD -m conntrack --ctstate INVALID -j ACCEPT';

export const TEST_CONFIGS: readonly TestConfig[] = [
  {
    name: 'serial',
    title: 'serial control: DNAT to 2 endpoints + MASQUERADE, one thread sends both datagrams back to back',
    mode: 'serial',
    dst: 'vip',
    rules: [...dnat2(RANDOM), MASQ],
    control: true,
    model: { scenario: 'dns-vip-snat', overrides: { serial: true }, note: 'serial: one thread, both datagrams back to back' },
  },
  {
    name: 'nonat',
    title: 'no NAT (nat table not loaded; a conntrack match makes the router track)',
    mode: 'pair',
    dst: 's1',
    rules: [TRACK],
    model: { scenario: 'no-nat' },
  },
  { name: 'masq', title: 'MASQUERADE', mode: 'pair', dst: 's1', rules: [MASQ], model: { scenario: 'dns-snat' } },
  {
    name: 'dnat1',
    title: 'DNAT to 1 endpoint + MASQUERADE',
    mode: 'pair',
    dst: 'vip',
    rules: [DNAT1, MASQ],
    model: { scenario: 'dns-dnat1-snat' },
  },
  {
    name: 'dnat2-random',
    title: 'DNAT to 2 endpoints, statistic --mode random',
    mode: 'pair',
    dst: 'vip',
    rules: dnat2(RANDOM),
    model: { scenario: 'dns-vip' },
  },
  {
    name: 'dnat2-nth',
    title: 'DNAT to 2 endpoints, statistic --mode nth --every 2',
    mode: 'pair',
    dst: 'vip',
    rules: dnat2(NTH),
    model: { scenario: 'dns-vip-nth', note: 'round-robin: the two packets of a racing pair always pick different endpoints' },
  },
  {
    name: 'snat-ports',
    title: 'different-flow SNAT port race: two clients, one source port, MASQUERADE',
    mode: 'ports',
    dst: 's1',
    rules: [MASQ],
    model: null,
  },
  // Not in the default plan: the probe and bench:kernel run them, `--configs` names them.
  {
    name: 'masq-random',
    title: 'MASQUERADE --random',
    mode: 'pair',
    dst: 's1',
    rules: [`${MASQ} --random`],
    model: { scenario: 'dns-snat', overrides: { portMode: 'random' } },
  },
  {
    name: 'masq-random-fully',
    title: 'MASQUERADE --random-fully',
    mode: 'pair',
    dst: 's1',
    rules: [`${MASQ} --random-fully`],
    model: { scenario: 'dns-snat', overrides: { portMode: 'random-fully' } },
  },
  {
    name: 'dnat2-random-masq',
    title: 'DNAT to 2 endpoints (statistic random) + MASQUERADE',
    mode: 'pair',
    dst: 'vip',
    rules: [...dnat2(RANDOM), MASQ],
    model: { scenario: 'dns-vip-snat' },
  },
  {
    name: 'udp2-ports',
    title: 'different-flow port race, UDP: two sockets, MASQUERADE --to-ports (16 ports)',
    mode: 'udp2',
    dst: 'span',
    rules: ['-t nat -A POSTROUTING -o {OUT} -p udp -j MASQUERADE --to-ports 20000-20015'],
    model: { scenario: 'udp-port-race', overrides: { portRange: 16 } },
  },
  {
    name: 'tcp2-ports',
    title: 'different-flow port race, TCP: two connects, MASQUERADE --to-ports (16 ports)',
    mode: 'tcp2',
    dst: 'span',
    rules: ['-t nat -A POSTROUTING -o {OUT} -p tcp -j MASQUERADE --to-ports 20000-20015'],
    model: { scenario: 'tcp-port-race', overrides: { portRange: 16 } },
  },
];

export const TEST_CONFIG_NAMES = TEST_CONFIGS.map((c) => c.name);

/**
 * The six race configurations of the issue plus the serial control, in the order they run: the
 * NAT races first (the first figure is one that can clash), no NAT and the control last.
 */
export const DEFAULT_CONFIGS: readonly string[] = ['masq', 'dnat1', 'dnat2-random', 'dnat2-nth', 'snat-ports', 'nonat', 'serial'];

export function testConfig(name: string): TestConfig | undefined {
  return TEST_CONFIGS.find((c) => c.name === name);
}

/** Split and check a `--configs a,b` list (`all`: every configuration); unknown names are an error naming the known ones. */
export function parseConfigList(list: string[] | undefined): string[] {
  const names = (list ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((n) => (n === 'all' ? TEST_CONFIG_NAMES : [n]));
  if (!names.length) return [...DEFAULT_CONFIGS];
  const bad = names.filter((n) => !testConfig(n));
  if (bad.length)
    throw new Error(`unknown configuration ${bad.map((b) => `"${b}"`).join(', ')} (known: ${TEST_CONFIG_NAMES.join(', ')}, all)`);
  return [...new Set(names)];
}

const PLACEHOLDERS: Record<string, string> = {
  VIP: '$VIP',
  S1: '$S1',
  S2: '$S2',
  OUT1: '"${P}r1"',
  OUT2: '"${P}r2"',
  IN: '"${P}r0"',
};
const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
const TOKEN = /^(?:[A-Za-z0-9_.:/,=+-]|\{(?:VIP|S1|S2|OUT|OUT1|OUT2|IN)\})+$/;

/** Why a configuration cannot run (a bad name, mode, destination or rule token), or null. */
export function configProblem(c: TestConfig): string | null {
  if (!NAME.test(c.name)) return `configuration name "${c.name}": lower-case letters, digits and dashes only`;
  if (!['pair', 'serial', 'ports', 'udp2', 'tcp2'].includes(c.mode)) return `${c.name}: unknown mode "${c.mode}"`;
  if (!['vip', 's1', 'span'].includes(c.dst)) return `${c.name}: unknown destination "${c.dst}"`;
  if ((c.mode === 'udp2' || c.mode === 'tcp2') !== (c.dst === 'span'))
    return `${c.name}: modes udp2 and tcp2 go to a fresh destination per trial (dst "span"), and only they do`;
  for (const r of c.rules) {
    const toks = r.trim().split(/\s+/);
    if (toks[0] !== '-t') return `${c.name}: rule "${r}" must start with -t TABLE`;
    const bad = toks.find((t) => !TOKEN.test(t));
    if (bad !== undefined) return `${c.name}: rule "${r}": token "${bad}" is not a plain word or placeholder`;
  }
  return null;
}

/**
 * The configuration as the shell lines ctb-config.sh sources: MODE, DST, EXTRA (ctb_race's
 * last arguments), SPAN (the destinations' count when dst is span) and one `rule` call per rule
 * (per server interface for {OUT}). Throws on a configuration configProblem() refuses.
 */
export function configShell(c: TestConfig): string {
  const why = configProblem(c);
  if (why) throw new Error(why);
  const dst = c.dst === 'vip' ? '$VIP' : c.dst === 's1' ? '$S1' : '$SPAN_BASE';
  const extra = c.mode === 'ports' ? '"10.77.1.2 10.77.1.3"' : c.mode === 'udp2' || c.mode === 'tcp2' ? '$SPAN_N' : '""';
  const lines = [
    `# ${c.name}: ${c.title.replace(/[\r\n]/g, ' ')}`,
    `MODE=${c.mode}`,
    `DST=${dst}`,
    `EXTRA=${extra}`,
    `SPAN=${c.dst === 'span' ? 1 : 0}`,
  ];
  const sub = (r: string, out?: string) =>
    r
      .trim()
      .split(/\s+/)
      .map((t) => t.replace(/\{(\w+)\}/g, (_, k: string) => (k === 'OUT' ? out! : PLACEHOLDERS[k])))
      .join(' ');
  for (const r of c.rules) {
    if (/\{OUT\}/.test(r)) for (const o of [PLACEHOLDERS.OUT1, PLACEHOLDERS.OUT2]) lines.push(`rule ${sub(r, o)}`);
    else lines.push(`rule ${sub(r)}`);
  }
  return lines.join('\n') + '\n';
}

/** The shape of a kernel validation scenario (src/core/model/validation.ts) the probe needs. */
export interface KernelScenarioLike {
  id: string;
  title: string;
  client: string;
  dst: string;
  router: string[];
  model: { scenario: string; set: Partial<ScenarioKnobs> };
}

const VALIDATION_ADDRS: [RegExp, string][] = [
  [/\b10\.99\.9\.9\b/g, '{VIP}'],
  [/\b10\.99\.2\.2\b/g, '{S1}'],
  [/\b10\.99\.2\.3\b/g, '{S2}'],
];

/**
 * A model validation scenario as a probe configuration: its client mode (same, serial, udp2,
 * tcp2), destination (server, vip) and router rules (iptables commands with {OUT} and the
 * 10.99.x addresses) in the test plan's topology, its model scenario and knobs beside. The
 * scenario's one server namespace with two addresses becomes servers 1 and 2; a rule on {OUT}
 * is added on both server interfaces. A scenario the probe cannot express gets the reason.
 */
export function kernelScenarioConfig(s: KernelScenarioLike): { config: TestConfig } | { why: string } {
  const modes: Record<string, RaceMode> = { same: 'pair', serial: 'serial', udp2: 'udp2', tcp2: 'tcp2' };
  const mode = modes[s.client];
  if (!mode) return { why: `client "${s.client}" has no ctb_race mode` };
  const dst: RaceDst | undefined =
    mode === 'udp2' || mode === 'tcp2' ? 'span' : s.dst === 'server' ? 's1' : s.dst === 'vip' ? 'vip' : undefined;
  if (!dst) return { why: `destination "${s.dst}" is neither server nor vip` };
  const rules: string[] = [];
  for (const r of s.router) {
    const m = /^\s*iptables\s+(.*)$/.exec(r);
    if (!m) return { why: `rule "${r}" is not an iptables command` };
    let t = m[1].trim();
    for (const [re, ph] of VALIDATION_ADDRS) t = t.replace(re, ph);
    rules.push(t);
  }
  const name = s.id.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const config: TestConfig = {
    name,
    title: s.title,
    mode,
    dst,
    rules,
    control: mode === 'serial',
    model: { scenario: s.model.scenario, overrides: s.model.set },
  };
  const why = configProblem(config);
  return why ? { why } : { config };
}

// Scenario presets: which packets race, through which rules, on which table. Every field is a
// knob the panel and CLI may override. Builders turn a preset + variant into a baseline state
// and the racing packets; the engines only ever run the steps on them.

import type { RaceId } from '../types';
import { Rng } from './rng';
import {
  ASSURED,
  CONFIRMED,
  DST_NAT_DONE,
  ModelState,
  NO_WHATIF,
  SEEN_REPLY,
  SRC_NAT_DONE,
  TCP_ESTABLISHED,
  TCP_TIME_WAIT,
  type DnatMode,
  type EarlyDropEra,
  type NatEra,
  type PortMode,
  type StateConfig,
  type WhatIf,
} from './state';
import { Packet, SNAT_MASQUERADE, SNAT_NONE, SNAT_NULL_BINDING } from './packet';
import { TCP, tuple, UDP, invert } from './tuple';
import { variantInfo, type ModelVariantId } from './variants';

export type ResolverMode = 'default' | 'single-request' | 'single-request-reopen' | 'use-vc';

export interface ScenarioKnobs {
  /** Racing packets (1-4). */
  packets: number;
  proto: 'udp' | 'tcp';
  /** All packets leave one socket (same ORIGINAL tuple), as glibc/musl send A and AAAA. */
  sameSocket: boolean;
  /** DNAT endpoints behind the destination (0: no DNAT rule). */
  endpoints: number;
  /** How the DNAT rules spread new flows: statistic --mode random, or round-robin (statistic --mode nth, nft numgen inc). */
  dnatMode: DnatMode;
  /** One thread sends the packets back to back (the serial control): they never overlap. */
  serial: boolean;
  /** Port allocator era (auto: rover for trees before the 2022 change, random for the reverse-2024 variant and the running kernels it stands for). */
  natEra: NatEra | 'auto';
  /** early_drop era (auto: gc for the rework variants, chain for older trees). */
  earlyDropEra: EarlyDropEra | 'auto';
  /** MASQUERADE --to-ports 1024-(1024+portRange-1): the original port is kept only inside that range. */
  toPorts: boolean;
  /** masquerade; null-binding (nat table loaded, no rule rewrites); none (nat table not loaded). */
  snat: 'masquerade' | 'null-binding' | 'none';
  portMode: PortMode;
  /** Size of the NAT source port range. */
  portRange: number;
  /** Ports of that range already held by confirmed flows to the same destination. */
  occupiedPorts: number;
  /** TCP only: draw each client's source port at random in the range each trial (Monte Carlo). */
  randomSourcePorts: boolean;
  /** Each packet in its own conntrack zone (ORIGINAL direction); replies in zone 0. */
  zones: boolean;
  /** Packet 2 is the peer's packet in the opposite direction (reverse collision). */
  reverse: boolean;
  cpus: number;
  /** Packets after the first start uniformly within [0, skewUs]. */
  skewUs: number;
  /** Mean cost of one step; each step costs uniform [0.5, 1.5) x mean. */
  stepCostUs: number;
  /** Cost of the DNAT step relative to the others (fitted globally, see MODEL.md). */
  dnatCost: number;
  resolver: ResolverMode;
  /** The client's resolver library: glibc honours the resolv.conf options and waits `timeoutS` per lost answer; musl ignores them and resends every timeoutS/attempts. */
  libc: 'glibc' | 'musl';
  /** NodeLocal DNSCache: the pod queries a node-local address that is NOTRACKed, so no DNAT/SNAT (and no conntrack entry) is in its path. */
  nodeLocalDns: boolean;
  /** tc qdisc ... netem delay on the pod's egress (ms): one queue releases the datagrams one after the other, and each lookup waits this much more. */
  tcDelayMs: number;
  /** Resolver timeout (s) per lost DNS packet; first SYN retransmission (s) for TCP. */
  timeoutS: number;
  attempts: number;
  /** nf_conntrack_max (0: unlimited) and bucket count. */
  max: number;
  buckets: number;
  /** Table overflow: background entries filling the table (assured TCP, non-assured UDP, TCP TIME_WAIT, idle TCP). */
  prefill: { assuredTcp: number; udp: number; timeWait: number; idleTcp: number };
  whatIf: WhatIf;
  /** Overflow timed run. */
  flowRate: number;
  udpFraction: number;
  durationS: number;
  tcpLifetimeS: number;
}

export interface ScenarioPreset {
  name: string;
  title: string;
  description: string;
  /** Races this scenario can show. */
  races: RaceId[];
  kind: 'race' | 'overflow';
  knobs: ScenarioKnobs;
  /** Knob values used by the exhaustive engine when the preset's are too large to enumerate. */
  exhaustive?: Partial<ScenarioKnobs>;
  /** The real rules this scenario stands for (iptables, and nft where it differs). */
  rules: string[];
}

const base: ScenarioKnobs = {
  packets: 2,
  proto: 'udp',
  sameSocket: true,
  endpoints: 0,
  dnatMode: 'random',
  serial: false,
  natEra: 'auto',
  earlyDropEra: 'auto',
  toPorts: false,
  snat: 'masquerade',
  portMode: 'default',
  portRange: 64512,
  occupiedPorts: 0,
  randomSourcePorts: false,
  zones: false,
  reverse: false,
  cpus: 2,
  skewUs: 230,
  stepCostUs: 1,
  dnatCost: 0,
  resolver: 'default',
  libc: 'glibc',
  nodeLocalDns: false,
  tcDelayMs: 0,
  timeoutS: 5,
  attempts: 2,
  max: 0,
  buckets: 16,
  prefill: { assuredTcp: 0, udp: 0, timeWait: 0, idleTcp: 0 },
  whatIf: NO_WHATIF,
  flowRate: 0,
  udpFraction: 0.5,
  durationS: 0,
  tcpLifetimeS: 60,
};

const k = (o: Partial<ScenarioKnobs>): ScenarioKnobs => ({ ...base, ...o });

const MASQ = 'iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE   (nft: oifname "eth0" masquerade)';
const VIP_RANDOM = [
  'iptables -t nat -A PREROUTING -d 10.96.0.10 -p udp --dport 53 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.244.2.10',
  'iptables -t nat -A PREROUTING -d 10.96.0.10 -p udp --dport 53 -j DNAT --to-destination 10.244.2.11',
];
const VIP_NTH = [
  'iptables -t nat -A PREROUTING -d 10.96.0.10 -p udp --dport 53 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 10.244.2.10',
  'iptables -t nat -A PREROUTING -d 10.96.0.10 -p udp --dport 53 -j DNAT --to-destination 10.244.2.11',
  'nft: ip daddr 10.96.0.10 udp dport 53 dnat to numgen inc mod 2 map { 0 : 10.244.2.10, 1 : 10.244.2.11 }',
];
const TCP_EXH: Partial<ScenarioKnobs> = { portRange: 6, occupiedPorts: 3, randomSourcePorts: false, buckets: 16 };
const tcpRace = (o: Partial<ScenarioKnobs>) =>
  k({
    proto: 'tcp',
    sameSocket: false,
    portRange: 64512,
    occupiedPorts: 32256,
    randomSourcePorts: true,
    skewUs: 6,
    timeoutS: 1,
    attempts: 3,
    buckets: 16384,
    ...o,
  });
/** Race presets enumerate with a small port range: random port modes branch on every port. */
const EXH: Partial<ScenarioKnobs> = { portRange: 8 };

export const SCENARIOS: readonly ScenarioPreset[] = [
  {
    name: 'dns-snat',
    title: 'DNS A/AAAA through SNAT',
    kind: 'race',
    races: ['race1', 'race2'],
    description: 'One client socket, two threads send one datagram each within a small skew, to an outside resolver through MASQUERADE.',
    rules: [MASQ],
    knobs: k({}),
    exhaustive: EXH,
  },
  {
    name: 'dns-dnat1-snat',
    title: 'DNS to a VIP DNATed to one endpoint, plus MASQUERADE',
    kind: 'race',
    races: ['race1', 'race2'],
    description:
      'The two datagrams of one socket go to a VIP with a single endpoint (DNAT) and through MASQUERADE: endpoints never differ, the DNAT step only sits in the window.',
    rules: ['iptables -t nat -A PREROUTING -d 10.96.0.10 -p udp --dport 53 -j DNAT --to-destination 10.244.2.10', MASQ],
    knobs: k({ endpoints: 1, snat: 'masquerade' }),
    exhaustive: EXH,
  },
  {
    name: 'dns-vip',
    title: 'DNS to a Service VIP (DNAT to N endpoints, statistic random)',
    kind: 'race',
    races: ['race1', 'race2', 'race3'],
    description:
      'As dns-snat, but the destination is a Service VIP DNATed to one of N endpoints (statistic --mode random, as kube-proxy writes it); nat table loaded (null binding for SNAT).',
    rules: VIP_RANDOM,
    knobs: k({ endpoints: 2, snat: 'null-binding' }),
    exhaustive: EXH,
  },
  {
    name: 'dns-vip-nth',
    title: 'DNS to a Service VIP (DNAT round-robin: statistic nth / numgen inc)',
    kind: 'race',
    races: ['race1', 'race2', 'race3'],
    description:
      'As dns-vip, but the endpoint comes from a shared counter: consecutive new flows alternate, so two racing datagrams always reach different endpoints.',
    rules: VIP_NTH,
    knobs: k({ endpoints: 2, snat: 'null-binding', dnatMode: 'nth' }),
    exhaustive: EXH,
  },
  {
    name: 'dns-vip-snat',
    title: 'DNS to a Service VIP with SNAT',
    kind: 'race',
    races: ['race1', 'race2', 'race3'],
    description: 'Service VIP DNAT to N endpoints (statistic random) plus MASQUERADE (e.g. hairpin / off-node endpoints).',
    rules: [...VIP_RANDOM, MASQ],
    knobs: k({ endpoints: 2, snat: 'masquerade' }),
    exhaustive: EXH,
  },
  {
    name: 'dns-serial',
    title: 'Serial control: one thread sends both datagrams back to back',
    kind: 'race',
    races: [],
    description:
      'The same socket and rules as dns-snat, but one thread sends A then AAAA: the second datagram meets a confirmed entry, so nothing ever clashes.',
    rules: [MASQ],
    knobs: k({ serial: true }),
    exhaustive: EXH,
  },
  {
    name: 'udp-port-race',
    title: 'Different-flow SNAT port race, UDP (two sockets, MASQUERADE --to-ports)',
    kind: 'race',
    races: [],
    description:
      'Two sockets (two clients) send to the same destination at once; MASQUERADE must allocate a port from a small --to-ports range, and two CPUs can pick the same one. UDP clashes on the REPLY tuple, which no clash resolution merges.',
    rules: ['iptables -t nat -A POSTROUTING -o eth0 -p udp -j MASQUERADE --to-ports 1024-1039   (nft: masquerade to :1024-1039)'],
    knobs: k({ sameSocket: false, toPorts: true, portRange: 16 }),
    exhaustive: EXH,
  },
  {
    name: 'tcp-port-race',
    title: 'Different-flow SNAT port race, TCP (two connects, MASQUERADE --to-ports)',
    kind: 'race',
    races: [],
    description: 'As udp-port-race with two TCP connects: a port collision drops the second SYN (TCP never merges).',
    rules: ['iptables -t nat -A POSTROUTING -o eth0 -p tcp -j MASQUERADE --to-ports 1024-1039   (nft: masquerade to :1024-1039)'],
    knobs: k({ proto: 'tcp', sameSocket: false, toPorts: true, portRange: 16, timeoutS: 1, attempts: 3 }),
    exhaustive: EXH,
  },
  {
    name: 'tcp-masquerade',
    title: 'TCP connect race through MASQUERADE (seed 001)',
    kind: 'race',
    races: [],
    description:
      "Two containers connect to one destination; half the host ports are held by TIME_WAIT flows, so MASQUERADE often allocates a port and two CPUs can pick the same one. TCP never merges. Skew calibrated so the default mode lands near seed 001's ~2 % failed connects.",
    rules: ['iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE'],
    knobs: tcpRace({}),
    exhaustive: TCP_EXH,
  },
  {
    name: 'tcp-masquerade-random',
    title: 'TCP connect race, MASQUERADE --random',
    kind: 'race',
    races: [],
    description:
      'As tcp-masquerade with --random: the original port is never tried; before 2022 the start offset is a hash of (saddr, daddr, dport), the same for every flow to one destination.',
    rules: ['iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE --random'],
    knobs: tcpRace({ portMode: 'random' }),
    exhaustive: TCP_EXH,
  },
  {
    name: 'tcp-masquerade-random-fully',
    title: 'TCP connect race, MASQUERADE --random-fully',
    kind: 'race',
    races: [],
    description: 'As tcp-masquerade with --random-fully: the original port is never tried, a fresh random offset per allocation.',
    rules: ['iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE --random-fully'],
    knobs: tcpRace({ portMode: 'random-fully' }),
    exhaustive: TCP_EXH,
  },
  {
    name: 'no-nat',
    title: 'No NAT (nat table not loaded)',
    kind: 'race',
    races: ['race1'],
    description: 'The baseline where the old clash resolution already merges: no NAT bits are set.',
    rules: ['(no nat table: iptables -t nat -L is empty and iptable_nat / nft nat chains are not loaded)'],
    knobs: k({ snat: 'none' }),
  },
  {
    name: 'null-binding',
    title: 'nat table loaded, no rule (null binding)',
    kind: 'race',
    races: ['race1', 'race2'],
    description: 'No rule rewrites the packet, but a loaded nat table still sets the NAT_DONE bits (Docker/Kubernetes nodes).',
    rules: ['iptables -t nat -N UNUSED   (any nat table or nft nat chain registered, no rule matching this flow)'],
    knobs: k({ snat: 'null-binding' }),
    exhaustive: EXH,
  },
  {
    name: 'dns-zones',
    title: 'Same flow in two conntrack zones through SNAT',
    kind: 'race',
    races: ['race2'],
    description:
      'Identical ORIGINAL tuples in different zones (overlapping container addresses), replies in zone 0: what 07998281c268 fixes.',
    rules: [
      'iptables -t raw -A PREROUTING -i veth1 -j CT --zone-orig 1',
      'iptables -t raw -A PREROUTING -i veth2 -j CT --zone-orig 2',
      MASQ,
    ],
    knobs: k({ zones: true }),
    exhaustive: EXH,
  },
  {
    name: 'udp-reverse',
    title: 'UDP simultaneous open (reverse collision)',
    kind: 'race',
    races: [],
    description:
      'A local socket and its peer send to each other at the same moment with the nat table loaded: the second entry is the first one reversed.',
    rules: ['iptables -t nat -N UNUSED   (nat table loaded, no rule: null bindings both ways)'],
    knobs: k({ reverse: true, snat: 'null-binding' }),
    exhaustive: EXH,
  },
  {
    name: 'table-overflow',
    title: 'Table overflow (seed 002)',
    kind: 'overflow',
    races: [],
    description:
      'New flows against nf_conntrack_max with a mix of request/response UDP (never assured) and established TCP. The race form: two new DNS flows hit a full table; the timed form: flows at rate R against a table pre-filled with assured or non-assured entries.',
    rules: [
      'sysctl net.netfilter.nf_conntrack_max=N',
      'echo B > /sys/module/nf_conntrack/parameters/hashsize',
      '(no NAT; conntrack loaded by any stateful rule, e.g. iptables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT)',
    ],
    knobs: k({
      snat: 'none',
      sameSocket: false,
      max: 4,
      buckets: 2,
      prefill: { assuredTcp: 1, udp: 1, timeWait: 1, idleTcp: 1 },
      flowRate: 200,
      udpFraction: 0.5,
      durationS: 600,
      tcpLifetimeS: 60,
    }),
  },
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

export function getScenario(name: string): ScenarioPreset {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(', ')})`);
  return s;
}

/** Addresses of the model's address book (index -> text). */
export const ADDR = { client: 1, client2: 2, node: 8, resolver: 9, vip: 10, peer: 11, other: 12, endpoint0: 20 } as const;

let book: string[] | null = null;

/** The shared address book (built once: scenarios only read it). */
export function addressBook(): string[] {
  if (book) return book;
  const a: string[] = (book = []);
  a[ADDR.client] = '10.244.1.5';
  for (let i = 1; i < 4; i++) a[ADDR.client + i] = `10.244.1.${5 + i}`;
  a[ADDR.node] = '192.168.1.10';
  a[ADDR.resolver] = '8.8.8.8';
  a[ADDR.vip] = '10.96.0.10';
  a[ADDR.peer] = '203.0.113.7';
  a[ADDR.other] = '10.244.1.99';
  for (let i = 0; i < 16; i++) a[ADDR.endpoint0 + i] = `10.244.2.${10 + i}`;
  for (let i = 0; i < 200; i++) a[40 + i] = `10.1.${i}.1`;
  return a;
}

export interface BuiltScenario {
  preset: ScenarioPreset;
  knobs: ScenarioKnobs;
  variant: ModelVariantId;
  state: ModelState;
  packets: Packet[];
  /** Packets run one after another (single-request) instead of concurrently. */
  serial: boolean;
  addrs: string[];
  /** Entries allocated by the baseline; ids >= this belong to a trial. */
  baselineEntries: number;
}

/** Apply resolver options: they change what is sent, so they act on the packets, not on odds. */
export function effectiveKnobs(kn: ScenarioKnobs): ScenarioKnobs {
  const o = { ...kn };
  // musl has no single-request, single-request-reopen or use-vc: it always sends A and AAAA together on one socket.
  if (o.libc === 'musl') o.resolver = 'default';
  if (o.nodeLocalDns && o.proto === 'udp') {
    o.endpoints = 0;
    o.snat = 'none';
  }
  if (o.tcDelayMs > 0) o.serial = true;
  if (o.proto === 'udp' && o.resolver === 'single-request-reopen') o.sameSocket = false;
  if (o.proto === 'udp' && o.resolver === 'use-vc') {
    o.proto = 'tcp';
    o.packets = 1;
  }
  return o;
}

/** The allocator era a knob value stands for with this variant. */
export function natEraFor(era: NatEra | 'auto', variant: ModelVariantId): NatEra {
  if (era !== 'auto') return era;
  return variant === 'reverse2024' ? 'random' : 'rover';
}

/** The early_drop era a knob value stands for with this variant. */
export function earlyDropEraFor(era: EarlyDropEra | 'auto', variant: ModelVariantId): EarlyDropEra {
  if (era !== 'auto') return era;
  return variant === 'rework2020' || variant === 'reverse2024' ? 'gc' : 'chain';
}

/** The knobs a built scenario runs with (preset, overrides, resolver options), without building its table. */
export function scenarioKnobs(preset: ScenarioPreset, overrides: Partial<ScenarioKnobs> = {}): ScenarioKnobs {
  return effectiveKnobs({ ...preset.knobs, ...overrides });
}

export function buildScenario(
  preset: ScenarioPreset,
  variant: ModelVariantId,
  overrides: Partial<ScenarioKnobs> = {},
  seed = 1,
  /** A state of an earlier build to build into (its entry objects are reused; see ModelState.resetFor). */
  reuse?: ModelState,
): BuiltScenario {
  const knobs = scenarioKnobs(preset, overrides);
  if (knobs.packets < 1 || knobs.packets > 8) throw new Error('packets must be 1..8');
  const proto = knobs.proto === 'tcp' ? TCP : UDP;
  const cfg: StateConfig = {
    behaviour: variantInfo(variant).behaviour,
    nat: {
      natAddr: ADDR.node,
      portMin: 1024,
      portRange: Math.max(1, knobs.portRange),
      mode: knobs.portMode,
      secret: 0x5eed,
      era: natEraFor(knobs.natEra, variant),
      rangeSpecified: knobs.toPorts,
    },
    cpus: Math.max(1, knobs.cpus),
    buckets: Math.max(1, knobs.buckets),
    max: knobs.max,
    whatIf: knobs.whatIf,
    earlyDropEra: earlyDropEraFor(knobs.earlyDropEra, variant),
    dnatMode: knobs.dnatMode,
  };
  const state = reuse ? reuse.resetFor(cfg) : new ModelState(cfg);
  const addrs = addressBook();
  const rng = new Rng(seed ^ 0xa5a5);
  const dst = knobs.endpoints > 0 ? ADDR.vip : knobs.proto === 'tcp' ? ADDR.peer : ADDR.resolver;
  const dport = knobs.proto === 'tcp' ? 8080 : 53;
  const endpoints = Array.from({ length: knobs.endpoints }, (_, i) => ADDR.endpoint0 + i);
  const snat = knobs.snat === 'masquerade' ? SNAT_MASQUERADE : knobs.snat === 'null-binding' ? SNAT_NULL_BINDING : SNAT_NONE;

  // Background flows holding host ports to the same destination (TIME_WAIT after earlier connects).
  const occupied = Math.min(knobs.occupiedPorts, Math.max(0, knobs.portRange - 1));
  const held: number[] = [];
  if (occupied > 0) {
    const offs = Array.from({ length: knobs.portRange }, (_, i) => i);
    for (let i = 0; i < occupied; i++) {
      const j = i + rng.int(offs.length - i);
      [offs[i], offs[j]] = [offs[j], offs[i]];
      held.push(offs[i]);
    }
    held.sort((a, b) => a - b);
    for (const off of held) {
      const port = 1024 + off;
      const id = state.alloc();
      const e = state.entries[id];
      e.orig = tuple(proto, ADDR.other, port, dst, dport);
      e.reply = tuple(proto, dst, dport, ADDR.node, port);
      e.status = CONFIRMED | ASSURED | SEEN_REPLY | SRC_NAT_DONE | DST_NAT_DONE;
      e.tcp = TCP_TIME_WAIT;
      state.hash(id, 3);
    }
  }
  // Table-overflow background: a full table of the kinds the paper discusses.
  const pf = knobs.prefill;
  const bg = (kind: 'assured' | 'udp' | 'tw' | 'idle', n: number) => {
    const id = state.alloc();
    const e = state.entries[id];
    const p = kind === 'udp' ? UDP : TCP;
    e.orig = tuple(p, 40 + n, 30000 + n, ADDR.peer, kind === 'udp' ? 53 : 443);
    e.reply = invert(e.orig);
    e.status = CONFIRMED | SEEN_REPLY | (kind === 'udp' ? 0 : ASSURED);
    e.tcp = kind === 'udp' ? 0 : kind === 'tw' ? TCP_TIME_WAIT : TCP_ESTABLISHED;
    e.lastSeen = kind === 'idle' ? -3600 : 0;
    state.hash(id, 3);
  };
  let n = 0;
  for (let i = 0; i < pf.assuredTcp; i++) bg('assured', n++);
  for (let i = 0; i < pf.udp; i++) bg('udp', n++);
  for (let i = 0; i < pf.timeWait; i++) bg('tw', n++);
  for (let i = 0; i < pf.idleTcp; i++) bg('idle', n++);
  state.finishBuild();

  const packets: Packet[] = [];
  for (let i = 0; i < knobs.packets; i++) {
    const cpu = i % state.cfg.cpus;
    let orig: number;
    if (knobs.reverse && i % 2 === 1) {
      orig = tuple(proto, ADDR.peer, 6000, ADDR.client, 5000);
    } else if (knobs.reverse) {
      orig = tuple(proto, ADDR.client, 5000, ADDR.peer, 6000);
    } else if (knobs.proto === 'tcp' && !knobs.sameSocket) {
      // Each container's own source port: one the background already holds, so MASQUERADE must allocate.
      const port = held.length ? 1024 + held[(i * 7) % held.length] : 40000 + i;
      orig = tuple(proto, ADDR.client + i, port, dst, dport);
    } else {
      orig = tuple(proto, ADDR.client, knobs.sameSocket ? 40000 : 40000 + i, dst, dport);
    }
    const zone = knobs.zones ? i + 1 : 0;
    packets.push(new Packet(i, cpu, orig, zone, 0, endpoints, snat, false));
  }
  return {
    preset,
    knobs,
    variant,
    state,
    packets,
    serial: knobs.serial || (knobs.resolver === 'single-request' && knobs.proto === 'udp'),
    addrs,
    baselineEntries: state.entries.length,
  };
}

/** Packets that may take the next step: per CPU only the first unfinished one (softirq runs to completion), and all in order when serial. */
export function runnable(b: BuiltScenario, pkts: Packet[], out: number[]): number {
  let n = 0;
  for (let i = 0; i < pkts.length; i++) {
    const p = pkts[i];
    if (p.done) continue;
    let blocked = false;
    for (let j = 0; j < i; j++) {
      const q = pkts[j];
      if (!q.done && (b.serial || q.cpu === p.cpu)) {
        blocked = true;
        break;
      }
    }
    if (!blocked) out[n++] = i;
  }
  return n;
}

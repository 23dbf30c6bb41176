// The kernel validation scenarios: what bench/kernel.bench.ts (and the test plan's probe) run on a
// real kernel in network namespaces, paired with the model scenario and knobs that stand for the
// same rules. Router rules are commands run inside the router namespace; {OUT} is its
// server-side interface. Servers answer at 10.99.2.2 (id A) and 10.99.2.3 (id B); the VIP is
// 10.99.9.9. Also the arithmetic that turns counters into the ratios compared side by side.

import type { ScenarioKnobs } from './scenarios';
import type { CounterName } from './state';

export interface KernelScenario {
  id: string;
  title: string;
  /** race.c client mode. */
  client: 'same' | 'serial' | 'udp2' | 'tcp2';
  dst: 'server' | 'vip';
  /** UDP/TCP destination port (udp2/tcp2: first of a per-round range). */
  port: number;
  router: string[];
  model: { scenario: string; set: Partial<ScenarioKnobs> };
}

const MASQ = 'iptables -t nat -A POSTROUTING -o {OUT} -j MASQUERADE';
const DNAT_RANDOM = [
  'iptables -t nat -A PREROUTING -d 10.99.9.9 -p udp --dport 53 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.99.2.2',
  'iptables -t nat -A PREROUTING -d 10.99.9.9 -p udp --dport 53 -j DNAT --to-destination 10.99.2.3',
];
const DNAT_NTH = [
  'iptables -t nat -A PREROUTING -d 10.99.9.9 -p udp --dport 53 -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 10.99.2.2',
  'iptables -t nat -A PREROUTING -d 10.99.9.9 -p udp --dport 53 -j DNAT --to-destination 10.99.2.3',
];

export const KERNEL_SCENARIOS: readonly KernelScenario[] = [
  {
    id: 'snat',
    title: 'same socket, MASQUERADE',
    client: 'same',
    dst: 'server',
    port: 53,
    router: [MASQ],
    model: { scenario: 'dns-snat', set: {} },
  },
  {
    id: 'serial',
    title: 'serial control, MASQUERADE',
    client: 'serial',
    dst: 'server',
    port: 53,
    router: [MASQ],
    model: { scenario: 'dns-serial', set: {} },
  },
  {
    id: 'snat-random-fully',
    title: 'same socket, MASQUERADE --random-fully',
    client: 'same',
    dst: 'server',
    port: 53,
    router: [`${MASQ} --random-fully`],
    model: { scenario: 'dns-snat', set: { portMode: 'random-fully' } },
  },
  {
    id: 'snat-random',
    title: 'same socket, MASQUERADE --random',
    client: 'same',
    dst: 'server',
    port: 53,
    router: [`${MASQ} --random`],
    model: { scenario: 'dns-snat', set: { portMode: 'random' } },
  },
  {
    id: 'dnat1-snat',
    title: 'same socket, DNAT to 1 endpoint + MASQUERADE',
    client: 'same',
    dst: 'vip',
    port: 53,
    router: ['iptables -t nat -A PREROUTING -d 10.99.9.9 -p udp --dport 53 -j DNAT --to-destination 10.99.2.2', MASQ],
    model: { scenario: 'dns-dnat1-snat', set: {} },
  },
  {
    id: 'vip-random',
    title: 'same socket, DNAT statistic random to 2',
    client: 'same',
    dst: 'vip',
    port: 53,
    router: DNAT_RANDOM,
    model: { scenario: 'dns-vip', set: {} },
  },
  {
    id: 'vip-nth',
    title: 'same socket, DNAT statistic nth to 2',
    client: 'same',
    dst: 'vip',
    port: 53,
    router: DNAT_NTH,
    model: { scenario: 'dns-vip-nth', set: {} },
  },
  {
    id: 'vip-random-snat',
    title: 'same socket, DNAT random to 2 + MASQUERADE',
    client: 'same',
    dst: 'vip',
    port: 53,
    router: [...DNAT_RANDOM, MASQ],
    model: { scenario: 'dns-vip-snat', set: {} },
  },
  {
    id: 'udp-port-race',
    title: 'two UDP sockets, MASQUERADE --to-ports (16 ports)',
    client: 'udp2',
    dst: 'server',
    port: 10000,
    router: ['iptables -t nat -A POSTROUTING -o {OUT} -p udp -j MASQUERADE --to-ports 20000-20015'],
    model: { scenario: 'udp-port-race', set: { portRange: 16 } },
  },
  {
    id: 'tcp-port-race',
    title: 'two TCP connects, MASQUERADE --to-ports (16 ports)',
    client: 'tcp2',
    dst: 'server',
    port: 10000,
    router: ['iptables -t nat -A POSTROUTING -o {OUT} -p tcp -j MASQUERADE --to-ports 20000-20015'],
    model: { scenario: 'tcp-port-race', set: { portRange: 16 } },
  },
];

/** What one kernel run gave: counter totals (after - before) and the client's answer counts. */
export interface KernelRun {
  kernel: string;
  rounds: number;
  missing: number;
  twoBackends: number;
  counters: Partial<Record<CounterName, number>>;
}

/** Sum `conntrack -S` rows ("cpu=N found=.. ...") per counter. */
export function sumConntrackS(text: string): Partial<Record<CounterName, number>> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!/^\s*cpu=\d+/.test(line)) continue;
    for (const m of line.matchAll(/(\w+)=(\d+)/g)) if (m[1] !== 'cpu') out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  }
  return out as Partial<Record<CounterName, number>>;
}

/** Parse race.sh output into a KernelRun. */
export function parseRaceOutput(text: string): KernelRun {
  const kernel = /kernel=(\S+)/.exec(text)?.[1] ?? 'unknown';
  const c = /rounds=(\d+) missing=(\d+) two_backends=(\d+)/.exec(text);
  if (!c) throw new Error('race.sh output has no client line');
  const before = sumConntrackS(text.split('--- before')[1]?.split('--- after')[0] ?? '');
  const after = sumConntrackS(text.split('--- after')[1] ?? '');
  const counters: Record<string, number> = {};
  for (const k of Object.keys(after)) counters[k] = (after as Record<string, number>)[k] - ((before as Record<string, number>)[k] ?? 0);
  return { kernel, rounds: Number(c[1]), missing: Number(c[2]), twoBackends: Number(c[3]), counters };
}

/** The ratios compared side by side, from a kernel run's counters (post-2020 counter era). */
export interface Ratios {
  /** Clashes per round: clash_resolve + drop. */
  clashPerRound: number;
  /** drop / (clash_resolve + drop). */
  dropGivenClash: number;
  /** Raced rounds answered by two different servers / raced rounds. */
  twoBackendsShare: number;
  /** Answers missing per round. */
  missingPerRound: number;
}

export function kernelRatios(r: KernelRun): Ratios {
  const cr = r.counters.clash_resolve ?? 0;
  const drop = r.counters.drop ?? 0;
  const clashes = cr + drop;
  return {
    clashPerRound: r.rounds ? clashes / r.rounds : 0,
    dropGivenClash: clashes ? drop / clashes : 0,
    twoBackendsShare: clashes ? r.twoBackends / clashes : 0,
    missingPerRound: r.rounds ? r.missing / r.rounds : 0,
  };
}

// The kernel validation scenarios: what bench/kernel.bench.ts (and the test plan's probe) run on a
// real kernel in network namespaces, paired with the model scenario and knobs that stand for the
// same rules. Router rules are commands run inside the router namespace; {OUT} is its
// server-side interface. Servers answer at 10.99.2.2 (id A) and 10.99.2.3 (id B); the VIP is
// 10.99.9.9.

import type { ScenarioKnobs } from './scenarios';

export interface KernelScenario {
  id: string;
  title: string;
  /** The probe's race mode (kernelScenarioConfig in src/core/testplan/configs.ts maps it). */
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

// The test plan's configurations: what the router does, which reproducer mode races through it,
// and which model scenario (with which knob overrides) predicts the same thing. The rules
// themselves live in guest/ctb-config.sh, which the VM and the probe both run.

import type { ScenarioKnobs } from '../model/scenarios';

export interface TestConfig {
  name: string;
  title: string;
  /** Reproducer mode in ctb_race. */
  mode: 'pair' | 'serial' | 'ports';
  /** Model scenario for the same router and packets; null when the model has none. */
  model: { scenario: string; overrides?: Partial<ScenarioKnobs>; note?: string } | null;
  /** The control: must never clash, whatever the kernel. */
  control?: boolean;
}

export const TEST_CONFIGS: readonly TestConfig[] = [
  {
    name: 'serial',
    title: 'serial control: DNAT to 2 endpoints + MASQUERADE, one thread sends both datagrams back to back',
    mode: 'serial',
    control: true,
    model: { scenario: 'dns-vip-snat', overrides: { resolver: 'single-request' }, note: 'single-request: packets one after another' },
  },
  { name: 'nonat', title: 'no NAT (nat table not loaded)', mode: 'pair', model: { scenario: 'no-nat' } },
  { name: 'masq', title: 'MASQUERADE', mode: 'pair', model: { scenario: 'dns-snat' } },
  {
    name: 'dnat1',
    title: 'DNAT to 1 endpoint + MASQUERADE',
    mode: 'pair',
    model: { scenario: 'dns-vip-snat', overrides: { endpoints: 1 } },
  },
  { name: 'dnat2-random', title: 'DNAT to 2 endpoints, statistic --mode random', mode: 'pair', model: { scenario: 'dns-vip' } },
  {
    name: 'dnat2-nth',
    title: 'DNAT to 2 endpoints, statistic --mode nth --every 2',
    mode: 'pair',
    model: { scenario: 'dns-vip-nth', note: 'round-robin: the two packets of a racing pair always pick different endpoints' },
  },
  { name: 'snat-ports', title: 'different-flow SNAT port race: two clients, one source port, MASQUERADE', mode: 'ports', model: null },
];

export const TEST_CONFIG_NAMES = TEST_CONFIGS.map((c) => c.name);

/**
 * The six race configurations of the issue plus the serial control, in the order they run: the
 * NAT races first (the first figure is one that clashes), no NAT and the control last.
 */
export const DEFAULT_CONFIGS: readonly string[] = ['masq', 'dnat1', 'dnat2-random', 'dnat2-nth', 'snat-ports', 'nonat', 'serial'];

export function testConfig(name: string): TestConfig | undefined {
  return TEST_CONFIGS.find((c) => c.name === name);
}

/** Split and check a `--configs a,b` list; unknown names are an error naming the known ones. */
export function parseConfigList(list: string[] | undefined): string[] {
  const names = (list ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) return [...DEFAULT_CONFIGS];
  const bad = names.filter((n) => !testConfig(n));
  if (bad.length) throw new Error(`unknown configuration ${bad.map((b) => `"${b}"`).join(', ')} (known: ${TEST_CONFIG_NAMES.join(', ')})`);
  return [...new Set(names)];
}

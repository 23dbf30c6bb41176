// The kernel configuration of the test plan: the tree's own tinyconfig plus a fragment for a
// VM that boots from a virtio disk with a serial console, network namespaces, veth, and the
// netfilter pieces the configurations use. Option names changed between eras (4.19 merged
// NF_CONNTRACK_IPV4 into NF_CONNTRACK, 5.1 dropped NF_NAT_IPV4, 5.2 renamed the masquerade
// helper): every option says in which versions it exists, so that after olddefconfig we can
// tell "dropped because this era has no such option" from "missing".

export type KVersion = [number, number];

interface Opt {
  name: string;
  value: string;
  /** Exists from this version on (inclusive). */
  since?: KVersion;
  /** Exists before this version only. */
  until?: KVersion;
  /** Needed by the plan (missing ones are reported as such); optional ones only widen it (nft, virtio console). */
  required: boolean;
}

const y = (names: string, required = true, range: { since?: KVersion; until?: KVersion } = {}): Opt[] =>
  names
    .split(/\s+/)
    .filter(Boolean)
    .map((name) => ({ name, value: 'y', required, ...range }));
const off = (names: string, range: { since?: KVersion; until?: KVersion } = {}): Opt[] =>
  names
    .split(/\s+/)
    .filter(Boolean)
    .map((name) => ({ name, value: 'n', required: false, ...range }));

const OPTIONS: Opt[] = [
  ...y('64BIT SMP PRINTK BUG TTY SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD BINFMT_ELF BINFMT_SCRIPT PROC_FS PROC_SYSCTL SYSCTL SYSFS'),
  ...y(
    'DEVTMPFS DEVTMPFS_MOUNT TMPFS FUTEX EPOLL MULTIUSER POSIX_TIMERS SHMEM UNIX98_PTYS MAGIC_SYSRQ HIGH_RES_TIMERS HZ_1000 PREEMPT_NONE SLUB FILE_LOCKING',
  ),
  { name: 'NR_CPUS', value: '4', required: false },
  ...y('CC_OPTIMIZE_FOR_PERFORMANCE KALLSYMS', false),
  // No objtool/ORC needed for a throw-away VM kernel (old trees' objtool breaks with new toolchains).
  ...y('UNWINDER_GUESS', false),
  ...off('UNWINDER_ORC STACK_VALIDATION MODULES WERROR'),
  ...off('RETPOLINE', { until: [6, 9] }),
  ...off('MITIGATION_RETPOLINE', { since: [6, 9] }),
  ...y('NET INET UNIX PACKET NAMESPACES NET_NS UTS_NS NETDEVICES NET_CORE VETH'),
  ...y('NETFILTER NETFILTER_ADVANCED NF_CONNTRACK NF_CONNTRACK_PROCFS NF_CONNTRACK_MARK NF_NAT NETFILTER_XTABLES'),
  ...y(
    'NETFILTER_XT_MATCH_STATISTIC NETFILTER_XT_MATCH_CONNTRACK NETFILTER_XT_MATCH_STATE NETFILTER_XT_NAT IP_NF_IPTABLES IP_NF_FILTER IP_NF_NAT IP_NF_TARGET_MASQUERADE',
  ),
  ...y('NF_CONNTRACK_IPV4', true, { until: [4, 19] }),
  ...y('NF_NAT_IPV4', true, { until: [5, 1] }),
  ...y('NF_NAT_MASQUERADE_IPV4', true, { until: [5, 2] }),
  ...y('NF_NAT_MASQUERADE', true, { since: [5, 2] }),
  // Legacy iptables became a choice in 6.10 (IP_NF_IPTABLES_LEGACY) and 6.17 (NETFILTER_XTABLES_LEGACY).
  ...y('IP_NF_IPTABLES_LEGACY', true, { since: [6, 10] }),
  ...y('NETFILTER_XTABLES_LEGACY', true, { since: [6, 17] }),
  // iptables-nft: nf_tables with the xtables compatibility layer for -m statistic.
  ...y('NF_TABLES NF_TABLES_IPV4 NFT_CT NFT_NAT NFT_MASQ NFT_COMPAT', false),
  ...y('NFT_CHAIN_NAT_IPV4', false, { until: [5, 1] }),
  ...y('NFT_CHAIN_NAT', false, { since: [5, 1] }),
  ...y('PARAVIRT KVM_GUEST HYPERVISOR_GUEST PCI ACPI BLOCK VIRTIO VIRTIO_PCI VIRTIO_BLK EXT2_FS'),
  // 4.x trees group the virtio drivers in a plain menu "Virtio drivers"; 5.x made it the
  // menuconfig VIRTIO_MENU (default y) that VIRTIO_PCI sits in (present in 5.4 and 6.x trees).
  ...y('VIRTIO_MENU', true, { since: [5, 4] }),
  ...y('VIRTIO_CONSOLE', false),
];

const cmp = (a: KVersion, b: KVersion) => a[0] - b[0] || a[1] - b[1];
const exists = (o: Opt, v: KVersion) => (!o.since || cmp(v, o.since) >= 0) && (!o.until || cmp(v, o.until) < 0);

/** VERSION and PATCHLEVEL of a kernel Makefile, or null. */
export function makefileVersion(text: string): KVersion | null {
  const v = /^VERSION\s*=\s*(\d+)/m.exec(text);
  const p = /^PATCHLEVEL\s*=\s*(\d+)/m.exec(text);
  return v && p ? [Number(v[1]), Number(p[1])] : null;
}

export function makefileRelease(text: string): string | null {
  const g = (k: string) => new RegExp(`^${k}[ \\t]*=[ \\t]*(\\S*)`, 'm').exec(text)?.[1] ?? '';
  const v = makefileVersion(text);
  return v ? `${v[0]}.${v[1]}.${g('SUBLEVEL') || '0'}${g('EXTRAVERSION')}` : null;
}

/** The fragment merged over tinyconfig for kernel version `v` (every option of the era). */
export function configFragment(v: KVersion): string {
  const lines = ['# conntrack-backport test plan: merged over tinyconfig, then make olddefconfig'];
  for (const o of OPTIONS) if (exists(o, v)) lines.push(o.value === 'n' ? `# CONFIG_${o.name} is not set` : `CONFIG_${o.name}=${o.value}`);
  return lines.join('\n') + '\n';
}

/** Values in a .config (`# CONFIG_X is not set` is 'n'). */
export function parseDotConfig(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const a = /^CONFIG_(\w+)=(.*)$/.exec(line);
    if (a) m.set(a[1], a[2].replace(/^"|"$/g, ''));
    const b = /^# CONFIG_(\w+) is not set$/.exec(line);
    if (b) m.set(b[1], 'n');
  }
  return m;
}

export interface ConfigCheck {
  /** Options of this era the fragment asked for and olddefconfig kept. */
  kept: string[];
  /** Required options that did not survive (the tree lacks them or a dependency is off). */
  missing: string[];
  /** Optional ones that did not survive (nft, virtio console...). */
  optionalMissing: string[];
  /** Options of the fragment this era does not have (never merged). */
  otherEra: string[];
}

export function checkConfig(dotConfig: string, v: KVersion): ConfigCheck {
  const cfg = parseDotConfig(dotConfig);
  const r: ConfigCheck = { kept: [], missing: [], optionalMissing: [], otherEra: [] };
  for (const o of OPTIONS) {
    if (!exists(o, v)) {
      r.otherEra.push(o.name);
      continue;
    }
    const got = cfg.get(o.name) ?? 'n';
    if (got === o.value) r.kept.push(o.name);
    else if (o.required) r.missing.push(`${o.name} (wanted ${o.value}, got ${got})`);
    else if (o.value !== 'n') r.optionalMissing.push(o.name);
  }
  return r;
}

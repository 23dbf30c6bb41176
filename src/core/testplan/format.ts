// Rendering the test plan: a fixed-width table per run (before / after) for terminals and the
// cover letter's [Test Plan], the raw counter deltas, and the notes.

import type { TestPlanResult, VariantRun } from './index';
import type { ConfigResult } from './results';

const p = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));
const sgn = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

const HEAD = [
  'config',
  'trials',
  'clashes',
  'merged/ins',
  'drops',
  'lost',
  'P(d|c)',
  '2 backends',
  'model P(d|c)',
  'model lost/t',
  'diff lost/t',
];

function row(c: ConfigResult): string[] {
  if (!c.replies || !c.counters)
    return [
      c.config,
      c.replies ? String(c.replies.trials) : '-',
      '-',
      '-',
      '-',
      c.replies ? String(c.replies.lost) : '-',
      '-',
      '-',
      '-',
      '-',
      c.error ? `(${c.error.slice(0, 40)})` : '-',
    ];
  const r = c.replies;
  const k = c.counters;
  return [
    c.config,
    String(r.trials),
    String(k.clashes),
    `${c.merged ?? '?'}/${c.clashInserted ?? '?'}`,
    String(k.drops),
    String(r.lost),
    p(k.pDropGivenClash),
    String(r.twoBackends),
    c.model ? p(c.model.pDropGivenClash) : 'n/a',
    c.model ? c.model.lostPerTrial.toFixed(4) : 'n/a',
    c.diff ? sgn(c.diff.lostPerTrial) : '-',
  ];
}

export function table(rows: string[][]): string[] {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])))
      .join('  ')
      .trimEnd(),
  );
}

const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);

function runHeader(r: VariantRun): string {
  const b = r.build ? (r.build.cached ? 'kernel cached' : `built in ${(r.build.buildMs / 1000).toFixed(0)} s`) : 'not built';
  const boot = r.boot
    ? `, ${r.boot.accel}, /init after ${((r.boot.bootMs ?? 0) / 1000).toFixed(1)} s, first figure ${secs(r.boot.firstFigureMs)}, first whole result ${secs(r.boot.firstResultMs)}, VM ${(r.boot.ms / 1000).toFixed(0)} s`
    : '';
  return `${r.label}: ${r.source}; model variant ${r.variant}; ${b}${boot}`;
}

function deltas(c: ConfigResult): string {
  if (!c.counters) return '';
  const nz = Object.entries(c.counters.deltas).filter(([k, v]) => v !== 0 && k !== 'entries');
  return `  ${c.config}: [${c.counters.form}, ${c.counters.era}] ${nz.map(([k, v]) => `${k}=${v}`).join(' ') || 'no change'}`;
}

/** "serial: topology 0.4 s, rules 0.9 s, servers 0.2 s, race 5.1 s" (guest clock). */
function phasesLine(c: ConfigResult): string {
  const ph = Object.entries(c.phases ?? {});
  return ph.length ? `  ${c.config}: ${ph.map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}` : '';
}

/** The run as text: one table per variant, raw deltas, notes. */
export function formatTestPlan(r: TestPlanResult): string {
  const out: string[] = [
    `test plan: ${r.tree} (${r.release}${r.commit ? `, ${r.commit.slice(0, 12)}` : ''}), ${r.trials} trials per configuration, iptables-${r.iptables}`,
  ];
  if (r.uncommitted.length) out.push(`note: ${r.uncommitted.length} uncommitted change(s) are not in the build`);
  if (r.plan) {
    out.push(`plan: ${r.plan.note ?? r.plan.steps.join('; ')}`);
    if (r.plan.files.length) out.push(`plan changes: ${r.plan.files.join(', ')}`);
  }
  for (const run of r.runs) {
    out.push('', runHeader(run));
    if (run.build?.check.missing.length) out.push(`config: missing after olddefconfig: ${run.build.check.missing.join(', ')}`);
    if (run.build?.check.optionalMissing.length) out.push(`config: optional, not available: ${run.build.check.optionalMissing.join(', ')}`);
    if (run.variantCaveats.length) out.push(...run.variantCaveats.map((c) => `model caveat: ${c}`));
    if (run.error) out.push(`error: ${run.error}`);
    if (run.configs.length) {
      out.push(...table([HEAD, ...run.configs.map(row)]));
      out.push('counter deltas (router, summed over CPUs):', ...run.configs.map(deltas).filter(Boolean));
      const ph = run.configs.map(phasesLine).filter(Boolean);
      if (ph.length) out.push('time in the guest per configuration:', ...ph);
      for (const c of run.configs) for (const n of c.notes) out.push(`  ${c.config}: ${n}`);
    }
  }
  out.push('', `reproduce: ${r.command}`, `total ${(r.totalMs / 1000).toFixed(0)} s`);
  return out.join('\n');
}

/** The cover letter's [Test Plan] body: the exact commands and the measured before/after table. */
export function testPlanSection(r: TestPlanResult): string[] {
  const lines: string[] = [];
  lines.push(
    `Measured with conntrack-backport in a VM (qemu ${r.runs[0]?.boot?.accel ?? ''}, 2 vCPUs) on ${r.release}${r.commit ? ` at ${r.commit.slice(0, 12)}` : ''}: a fresh namespace topology per configuration (client, router, two servers), two threads sending one UDP datagram each from one socket at the same instant, ${r.trials} times; the router's /proc/net/stat/nf_conntrack read before and after.`,
  );
  lines.push('', `  $ ${r.command}`, '');
  for (const run of r.runs) {
    lines.push(`  ${run.label} (${run.source}, model variant ${run.variant}):`);
    if (run.error) lines.push(`  error: ${run.error}`);
    if (run.configs.length) lines.push(...table([HEAD, ...run.configs.map(row)]).map((l) => `  ${l}`));
    lines.push('');
  }
  lines.push(
    'clashes, drops: router counter deltas (era rules); lost: replies not back within the timeout; P(d|c) = drops / clashes; 2 backends: trials answered by both DNAT endpoints; model: the bundled model, same configuration and variant.',
  );
  return lines;
}

/** The probe as text: forensics, one table, the verdict per race beside the static one. */
export function formatProbe(r: import('./probe').ProbeResult): string {
  const f = r.forensics;
  const out = [
    `probe: running kernel ${r.kernel}, ${r.trials} trials per configuration, ${(r.ms / 1000).toFixed(1)} s`,
    `counters: /proc/net/stat/nf_conntrack ${f.proc.present ? `present (${f.proc.columns.length} columns${f.proc.columns.includes('clashres') ? ', clashres' : ''})` : `absent: ${f.proc.why}`}; conntrack -S ${f.netlink.works ? `works (${f.netlink.tool})` : `unavailable: ${f.netlink.why}`}; era ${f.era}`,
  ];
  out.push(
    `model variant: ${r.variant.id} (from the ${r.variant.from}${r.variant.from === 'kernel version' ? ': mainline state of this version, open a tree for its own code' : ''})`,
  );
  if (r.tree)
    out.push(
      `tree: ${r.tree.path}${r.tree.release ? ` (${r.tree.release}${r.tree.matchesRunningKernel === false ? ", not the running kernel's version" : ''})` : ''}, model variant ${r.tree.variant}`,
    );
  if (r.configs.length) out.push('', ...table([HEAD, ...r.configs.map(row)]));
  out.push('counters read:', ...r.configs.map(deltas).filter(Boolean));
  for (const c of r.configs) for (const n of c.notes) out.push(`  ${c.config}: ${n}`);
  out.push('', 'is this node affected?');
  for (const m of r.races)
    out.push(
      `  ${m.race}: ${m.verdict.toUpperCase()} (${m.because})${m.staticVerdict ? `; static verdict of the tree: ${m.staticVerdict}` : ''}`,
    );
  return out.join('\n');
}

const SIDE_COUNTERS = ['clash_resolve', 'insert_failed', 'drop', 'found'] as const;
const SIDE_HEAD = [
  'scenario',
  'side',
  'trials',
  'clashes/t',
  'merged/t',
  'clash-ins/t',
  'drops/t',
  'P(d|c)',
  '2-backend',
  'lost/t',
  ...SIDE_COUNTERS.map((c) => `${c}/t`),
];

interface SideFigures {
  trials: number;
  clashes: number;
  merged: number | null;
  ins: number | null;
  drops: number;
  pdc: number | null;
  two: number | null;
  lost: number;
  counters: number[];
}

function kernelSide(c: ConfigResult): SideFigures | null {
  if (!c.replies || !c.counters) return null;
  const n = Math.max(1, c.replies.trials);
  const k = c.counters;
  return {
    trials: c.replies.trials,
    clashes: k.clashes / n,
    merged: c.merged === undefined ? null : c.merged / n,
    ins: c.clashInserted === undefined ? null : c.clashInserted / n,
    drops: k.drops / n,
    pdc: k.pDropGivenClash,
    two: k.clashes ? c.replies.twoBackends / k.clashes : null,
    lost: c.replies.lost / n,
    counters: SIDE_COUNTERS.map((x) => (k.deltas[x] ?? 0) / n),
  };
}

function modelSide(c: ConfigResult): SideFigures | null {
  const m = c.model;
  if (!m) return null;
  const n = Math.max(1, m.trials);
  return {
    trials: m.trials,
    clashes: m.clashes / n,
    merged: m.merged / n,
    ins: m.clashInserted / n,
    drops: m.drops / n,
    pdc: m.pDropGivenClash,
    two: m.twoBackendsShare,
    lost: m.lostPerTrial,
    counters: SIDE_COUNTERS.map((x) => (m.counters[x] ?? 0) / n),
  };
}

/**
 * Model vs kernel, side by side (bench:kernel): per configuration a kernel row, a model row and
 * their difference (kernel - model), every count per trial so different trial counts compare;
 * P(d|c) = drops / clashes, 2-backend = clashes answered by two endpoints / clashes.
 */
export function formatSideBySide(configs: ConfigResult[]): string[] {
  const f4 = (x: number | null) => (x === null ? '-' : x.toFixed(4));
  const f3 = (x: number | null) => (x === null ? '-' : x.toFixed(3));
  const d4 = (a: number | null, b: number | null) => (a === null || b === null ? '-' : `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(4)}`);
  const d3 = (a: number | null, b: number | null) => (a === null || b === null ? '-' : `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(3)}`);
  const cells = (s: SideFigures) => [
    String(s.trials),
    f4(s.clashes),
    f4(s.merged),
    f4(s.ins),
    f4(s.drops),
    f3(s.pdc),
    f3(s.two),
    f4(s.lost),
    ...s.counters.map(f4),
  ];
  const rows: string[][] = [SIDE_HEAD];
  const notes: string[] = [];
  for (const c of configs) {
    const k = kernelSide(c);
    const m = modelSide(c);
    if (!k) {
      rows.push([c.config, 'kernel', ...SIDE_HEAD.slice(2).map(() => '-')]);
      notes.push(`${c.config}: not measured here: ${c.error ?? c.notes[0] ?? 'no figures'}`);
      continue;
    }
    rows.push([c.config, 'kernel', ...cells(k)]);
    if (!m) {
      rows.push(['', 'model', ...SIDE_HEAD.slice(2).map(() => 'n/a')]);
      continue;
    }
    rows.push(['', 'model', ...cells(m)]);
    rows.push([
      '',
      'diff',
      '',
      d4(k.clashes, m.clashes),
      d4(k.merged, m.merged),
      d4(k.ins, m.ins),
      d4(k.drops, m.drops),
      d3(k.pdc, m.pdc),
      d3(k.two, m.two),
      d4(k.lost, m.lost),
      ...k.counters.map((x, i) => d4(x, m.counters[i])),
    ]);
  }
  return [...table(rows), ...notes];
}

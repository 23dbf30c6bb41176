// Parser for real `conntrack -S` output (netlink per-CPU rows, with or without clash_resolve /
// chaintoolong, optional summary line) and the /proc/net/stat/nf_conntrack fallback (header of
// column names, one row of hex values per CPU), plus a reading of the counters against the model.

import { COUNTER_NAMES, type CounterName } from './model/state';
import type { ModelVariantId } from './model/variants';

export class ConntrackStatsError extends Error {}

export interface CpuStats {
  cpu: number;
  counters: Partial<Record<CounterName, number>>;
  /** Columns the model has no name for (searched, new, delete, expect_*...). */
  extra: Record<string, number>;
}

export interface ConntrackStats {
  format: 'netlink' | 'proc';
  cpus: CpuStats[];
  /** Sums over CPUs; a counter the input did not show is absent from `present`, and 0 here. */
  totals: Record<CounterName, number>;
  present: CounterName[];
  /** Table entries (proc `entries` column or a summary line), when shown. */
  entries?: number;
  /** Key=value pairs of a summary line without cpu=. */
  summary?: Record<string, number>;
}

const ALIASES: Record<string, CounterName> = { icmp_error: 'error', clashres: 'clash_resolve', clash_resolve: 'clash_resolve' };

function counterName(k: string): CounterName | undefined {
  if ((COUNTER_NAMES as readonly string[]).includes(k)) return k as CounterName;
  return ALIASES[k];
}

function finish(format: ConntrackStats['format'], cpus: CpuStats[], entries?: number, summary?: Record<string, number>): ConntrackStats {
  const totals = {} as Record<CounterName, number>;
  const present = new Set<CounterName>();
  for (const n of COUNTER_NAMES) totals[n] = 0;
  for (const c of cpus)
    for (const [k, v] of Object.entries(c.counters)) {
      totals[k as CounterName] += v!;
      present.add(k as CounterName);
    }
  return { format, cpus, totals, present: COUNTER_NAMES.filter((n) => present.has(n)), entries, summary };
}

export function parseConntrackStats(text: string): ConntrackStats {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^\$ /.test(l) && l !== '[...]');
  if (!lines.length) throw new ConntrackStatsError('empty input: paste the output of `conntrack -S` or /proc/net/stat/nf_conntrack');
  if (lines.some((l) => /^cpu=\d+/.test(l))) return parseNetlink(lines);
  if (/^entries\s/.test(lines[0]) || /^[a-z_]+(\s+[a-z_]+){3,}$/.test(lines[0])) return parseProc(lines);
  throw new ConntrackStatsError(
    `not conntrack statistics: expected "cpu=N found=..." rows or a /proc/net/stat/nf_conntrack header, got "${lines[0].slice(0, 60)}"`,
  );
}

function parseNetlink(lines: string[]): ConntrackStats {
  const cpus: CpuStats[] = [];
  let summary: Record<string, number> | undefined;
  for (const line of lines) {
    const pairs = [...line.matchAll(/([a-z_]+)=(\S+)/g)];
    if (!pairs.length) {
      if (/^\[?\.\.\.\]?$/.test(line)) continue;
      throw new ConntrackStatsError(`unreadable line in conntrack -S output: "${line.slice(0, 60)}"`);
    }
    const rec: Record<string, number> = {};
    for (const [, k, v] of pairs) {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new ConntrackStatsError(`bad value ${k}=${v}`);
      rec[k] = n;
    }
    if ('cpu' in rec) {
      const c: CpuStats = { cpu: rec.cpu, counters: {}, extra: {} };
      for (const [k, v] of Object.entries(rec)) {
        if (k === 'cpu') continue;
        const name = counterName(k);
        if (name) c.counters[name] = v;
        else c.extra[k] = v;
      }
      cpus.push(c);
    } else summary = { ...summary, ...rec };
  }
  return finish('netlink', cpus, summary?.entries, summary);
}

function parseProc(lines: string[]): ConntrackStats {
  const header = lines[0].split(/\s+/);
  const cpus: CpuStats[] = [];
  let entries: number | undefined;
  lines.slice(1).forEach((line, i) => {
    const cols = line.split(/\s+/);
    if (cols.length !== header.length)
      throw new ConntrackStatsError(`row ${i + 1} has ${cols.length} columns, header has ${header.length}`);
    const c: CpuStats = { cpu: i, counters: {}, extra: {} };
    cols.forEach((h, j) => {
      if (!/^[0-9a-fA-F]+$/.test(h)) throw new ConntrackStatsError(`row ${i + 1}: "${h}" is not a hex value`);
      const v = parseInt(h, 16);
      const k = header[j];
      if (k === 'entries') {
        entries = v;
        return;
      }
      const name = counterName(k);
      if (name) c.counters[name] = v;
      else c.extra[k] = v;
    });
    cpus.push(c);
  });
  if (!cpus.length) throw new ConntrackStatsError('header without rows');
  return finish('proc', cpus, entries);
}

export interface ModelPrediction {
  variant?: ModelVariantId;
  /** Counters the model predicts for the same workload (e.g. McResult.counters). */
  counters?: Partial<Record<CounterName, number>>;
}

export interface StatsReading {
  /** One-line verdict. */
  summary: string;
  sentences: string[];
  rework2020: boolean | 'unknown';
  unresolvedClashes: boolean;
  tableFull: boolean;
}

/** Read the counters the way model.md describes each kernel era's semantics. */
export function interpretStats(stats: ConntrackStats, prediction: ModelPrediction = {}): StatsReading {
  const t = stats.totals;
  const hasClashCol = stats.present.includes('clash_resolve');
  const s: string[] = [];
  const rework: boolean | 'unknown' = hasClashCol ? (t.clash_resolve > 0 ? true : 'unknown') : false;
  let unresolved = false;
  if (hasClashCol && t.clash_resolve > 0) {
    s.push(`clash_resolve=${t.clash_resolve} > 0: 2020 rework present (clashes are being resolved)`);
  } else if (!hasClashCol) {
    s.push('no clash_resolve counter: pre-2020 counter semantics (or old conntrack-tools)');
  }
  if (t.insert_failed > 0) {
    if (t.drop === t.insert_failed && !(hasClashCol && t.clash_resolve > 0)) {
      unresolved = true;
      s.push(
        `insert_failed rises with drop equal (${t.insert_failed}): clashes are not resolved — race 1/2 unresolved (or TCP SNAT port collisions)`,
      );
    } else if (t.drop < t.insert_failed && !hasClashCol) {
      s.push(
        `insert_failed=${t.insert_failed} > drop=${t.drop}: ${t.insert_failed - t.drop} clashes were merged (clash resolution for matching entries works), ${t.drop} were not`,
      );
      unresolved = t.drop > 0;
    } else {
      unresolved = true;
      s.push(
        `insert_failed=${t.insert_failed}: clashes still fail${hasClashCol ? ' after the rework (TCP port collisions or both directions clashing)' : ''}`,
      );
    }
  } else if (t.drop === 0) {
    s.push('insert_failed=0 and drop=0: no failed clashes');
  }
  const tableFull = t.early_drop > 0 || t.drop > t.insert_failed;
  if (t.early_drop > 0) s.push(`early_drop=${t.early_drop}: the table reached nf_conntrack_max and non-assured entries were evicted`);
  if (t.drop > t.insert_failed)
    s.push(`drop=${t.drop} exceeds insert_failed=${t.insert_failed}: packets dropped for other reasons (table full)`);
  if (prediction.counters) {
    const pd = prediction.counters.drop ?? 0;
    const who = prediction.variant ? `the model (${prediction.variant})` : 'the model';
    if (pd === 0 && t.drop > 0)
      s.push(
        `${who} predicts no drops for this workload, the node shows drop=${t.drop}: the running kernel may not be the analysed tree, or another cause drops`,
      );
    else if (pd > 0 && t.drop === 0)
      s.push(`${who} predicts drops, the node shows none: the race may not be exercised, or the kernel carries more fixes than the tree`);
    else if (pd > 0 && t.drop > 0) s.push(`${who} also predicts drops: consistent`);
  }
  const summary = unresolved ? (s.find((x) => x.startsWith('insert_failed')) ?? s[0]) : s[0];
  return { summary, sentences: s, rework2020: rework, unresolvedClashes: unresolved, tableFull };
}

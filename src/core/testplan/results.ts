// From the "@@ctb" lines of a run (the VM's serial console or the probe's shell) to figures per
// configuration: the router's counter deltas read in the era's own units, the reproducer's
// replies, and the model's prediction for the same configuration and variant beside them.

import { parseConntrackStats, type ConntrackStats } from '../conntrackStats';
import { monteCarloScenario } from '../model/montecarlo';
import { COUNTER_NAMES, type CounterName } from '../model/state';
import type { ModelVariantId } from '../model/variants';
import { testConfig, type TestConfig } from './configs';

export interface RawConfigRun {
  config: string;
  /** Lines of the router's counters before/after (proc header + hex rows, or conntrack -S rows). */
  before: string[];
  after: string[];
  form: 'proc' | 'netlink' | 'none';
  result?: Record<string, number | string>;
  error?: string;
  ended: boolean;
  /** Guest clock (s) at each phase mark: begin, topology, rules, servers, race. */
  marks?: Record<string, number>;
  /** The latest figures while the race ran (ctb_race with CTB_EVERY_MS): replies so far and the router's counters then. */
  partial?: { result: Record<string, number | string>; after: string[] };
}

export interface ReplyFigures {
  trials: number;
  sent: number;
  replies: number;
  lost: number;
  lostTrials: number;
  twoBackends: number;
  backend1: number;
  backend2: number;
  errors: number;
  ms: number;
  /**
   * Same-socket trials whose two replies came from two different (backend, source port seen by
   * the server): the datagrams left as two flows (the loser inserted with its own NAT mapping).
   * Undefined from a reproducer that did not count it.
   */
  split?: number;
}

export interface CounterFigures {
  /** How the counters were read, which names existed, which era's rules apply. */
  form: 'proc' | 'netlink' | 'none';
  present: CounterName[];
  era: 'pre2020' | 'post2020' | 'unknown';
  /** Every column's delta (after - before, summed over CPUs), unknown columns included. */
  deltas: Record<string, number>;
  clashes: number;
  /** Clashes the kernel resolved (merged, or in 5.6+ also inserted as NAT_CLASH). */
  resolved: number;
  drops: number;
  /** P(drop | clash); null without clashes. */
  pDropGivenClash: number | null;
}

export interface ModelFigures {
  scenario: string;
  variant: ModelVariantId;
  trials: number;
  note?: string;
  clashes: number;
  resolved: number;
  drops: number;
  pDropGivenClash: number | null;
  /** Lost packets per trial (the model's drop count / trials). */
  lostPerTrial: number;
  /** Clashes resolved by merging, and by inserting the loser reply-only (NAT_CLASH, 5.6+). */
  merged: number;
  clashInserted: number;
  /** Trials with a clash, and those of them answered by two different endpoints (their share). */
  racedTrials: number;
  twoBackends: number;
  twoBackendsShare: number | null;
  /** The model's conntrack counters (sum over its CPUs) for its trials. */
  counters: Partial<Record<CounterName, number>>;
}

export interface ConfigResult {
  config: string;
  title: string;
  control: boolean;
  replies?: ReplyFigures;
  counters?: CounterFigures;
  model?: ModelFigures;
  /** Measured minus model: P(drop|clash) and lost replies per trial. */
  diff?: { pDropGivenClash: number | null; lostPerTrial: number };
  /** For DNAT with 2 endpoints: resolved clashes whose two replies came from two backends (clash-inserted, 5.6+). */
  clashInserted?: number;
  merged?: number;
  error?: string;
  /** Caveats for the reader (e.g. the control clashed, counters unreadable). */
  notes: string[];
  /** Seconds per phase in the guest: topology (netns, veth, addresses), rules (iptables), servers (until both answer), race, counters (the read after). */
  phases?: Partial<Record<'topology' | 'rules' | 'servers' | 'race', number>>;
}

/** 32-bit FNV-1a of a string's bytes (latin1), as 8 hex digits: ctb_race's check of its figures so far (ctb_race.c). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ (text.charCodeAt(i) & 0xff), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Split a run's output into configurations. Lines without the marker are ignored. */
export function parseRunLines(lines: Iterable<string>): { boot?: string; runs: RawConfigRun[]; done: boolean } {
  const runs: RawConfigRun[] = [];
  let cur: RawConfigRun | null = null;
  let boot: string | undefined;
  let done = false;
  const fields = (text: string) => {
    const r: Record<string, number | string> = {};
    for (const [, k, v] of text.matchAll(/(\w+)=(\S+)/g)) r[k] = /^-?\d+$/.test(v) ? Number(v) : v;
    return r;
  };
  for (const raw of lines) {
    const at = raw.indexOf('@@ctb ');
    if (at < 0) continue;
    const line = raw.slice(at + 6).trimEnd();
    const sp = line.indexOf(' ');
    const tag = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    if (tag === 'boot') boot = rest;
    else if (tag === 'done') done = true;
    else if (tag === 'begin') {
      runs.push((cur = { config: rest, before: [], after: [], form: 'none', ended: false }));
    } else if (!cur) continue;
    else if (tag === 't') {
      const [phase, secs] = rest.split(' ');
      if (phase && Number.isFinite(Number(secs))) (cur.marks ??= {})[phase] = Number(secs);
    } else if (tag === 'partial') {
      // Kept only when its check matches (the console may have lost characters); else the previous stands.
      // ct= holds the router's counters summed over CPUs, in the column order of the "before" header.
      const m = /ctb-result (.*) ck=([0-9a-f]{8})$/.exec(rest);
      if (m && fnv1a(m[1]) === m[2]) {
        const { ct, ...result } = fields(m[1]);
        const vals = ct === undefined ? [] : String(ct).split(',');
        const header = cur.before[0];
        const ok = header && vals.length === header.trim().split(/\s+/).length && vals.every((v) => /^[0-9a-f]+$/.test(v));
        cur.partial = { result, after: ok ? [header, vals.map((v) => v.padStart(8, '0')).join(' ')] : [] };
      }
    } else if (tag === 'sb') cur.before.push(rest);
    else if (tag === 'sa') cur.after.push(rest);
    else if (tag === 'sb-form' || tag === 'sa-form') cur.form = rest === 'proc' || rest === 'netlink' ? rest : 'none';
    else if (tag === 'result') {
      const m = /ctb-result (.*)$/.exec(rest);
      if (m) cur.result = fields(m[1]);
    } else if (tag === 'error') cur.error = rest.replace(/^\S+ /, '');
    else if (tag === 'end') cur.ended = true;
  }
  return { boot, runs, done };
}

function columns(s: ConntrackStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of s.cpus) {
    for (const [k, v] of Object.entries(c.counters)) out[k] = (out[k] ?? 0) + (v ?? 0);
    for (const [k, v] of Object.entries(c.extra)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** Counter deltas in the era's units: before the 2020 rework every clash bumps insert_failed and only unresolved ones bump drop; after it clash_resolve counts the resolved ones. */
export function counterFigures(form: RawConfigRun['form'], before: string[], after: string[]): CounterFigures | { error: string } {
  if (form === 'none' || !before.length || !after.length)
    return {
      error:
        'no counters: neither /proc/net/stat/nf_conntrack (CONFIG_NF_CONNTRACK_PROCFS) nor conntrack -S (netlink, CAP_NET_ADMIN) could be read in the router',
    };
  let b: ConntrackStats;
  let a: ConntrackStats;
  try {
    b = parseConntrackStats(before.join('\n'));
    a = parseConntrackStats(after.join('\n'));
  } catch (e) {
    return { error: `counters unreadable: ${(e as Error).message}` };
  }
  const cb = columns(b);
  const ca = columns(a);
  const deltas: Record<string, number> = {};
  for (const k of Object.keys(ca)) deltas[k] = ca[k] - (cb[k] ?? 0);
  const present = a.present;
  const has = (n: CounterName) => present.includes(n);
  const era: CounterFigures['era'] = has('clash_resolve') ? 'post2020' : has('insert_failed') && has('drop') ? 'pre2020' : 'unknown';
  const d = (n: string) => deltas[n] ?? 0;
  const clashes = era === 'post2020' ? d('clash_resolve') + d('insert_failed') : d('insert_failed');
  const drops = d('drop');
  const resolved = era === 'post2020' ? d('clash_resolve') : Math.max(0, d('insert_failed') - d('drop'));
  return { form, present, era, deltas, clashes, resolved, drops, pDropGivenClash: clashes ? drops / clashes : null };
}

/**
 * The model's prediction for one configuration and variant, in the same units: one attempt per
 * trial (the reproducer sends each datagram once; a resolver's retries would add rounds).
 */
export function modelFigures(config: string | TestConfig, variant: ModelVariantId, trials: number, seed = 1): ModelFigures | null {
  const c = typeof config === 'string' ? testConfig(config) : config;
  if (!c?.model) return null;
  const r = monteCarloScenario(c.model.scenario, variant, { trials, seed, overrides: { attempts: 1, ...c.model.overrides } });
  const post = r.counters.clash_resolve > 0 || variant === 'rework2020' || variant === 'reverse2024';
  const clashes = post ? r.counters.clash_resolve + r.counters.insert_failed : r.counters.insert_failed;
  const drops = r.counters.drop;
  const resolved = post ? r.counters.clash_resolve : Math.max(0, r.counters.insert_failed - r.counters.drop);
  return {
    scenario: c.model.scenario,
    variant,
    trials: r.trials,
    note: c.model.note,
    clashes,
    resolved,
    drops,
    pDropGivenClash: clashes ? drops / clashes : null,
    lostPerTrial: r.dropped / Math.max(1, r.trials),
    merged: r.merged,
    clashInserted: r.clashInserted,
    racedTrials: r.racedRounds,
    twoBackends: r.twoBackends,
    twoBackendsShare: r.racedRounds ? r.twoBackends / r.racedRounds : null,
    counters: { ...r.counters },
  };
}

/** Options of configResult: the configuration itself when it is not a built-in one, the model's trial count. */
export interface ResultOptions {
  config?: TestConfig;
  /** Model trials (default: as many as the kernel ran). */
  modelTrials?: number;
}

export function configResult(raw: RawConfigRun, variant: ModelVariantId | null, o: ResultOptions = {}): ConfigResult {
  const c = o.config?.name === raw.config ? o.config : testConfig(raw.config);
  const res: ConfigResult = { config: raw.config, title: c?.title ?? raw.config, control: !!c?.control, notes: [] };
  if (raw.marks) res.phases = phaseSeconds(raw.marks);
  if (raw.error) res.error = raw.error;
  else if (!raw.ended) res.error = 'the run stopped before this configuration ended (time limit or VM crash)';
  const r = raw.result;
  if (r) {
    const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0);
    res.replies = {
      trials: n('trials'),
      sent: n('sent'),
      replies: n('replies'),
      lost: n('lost'),
      lostTrials: n('lost_trials'),
      twoBackends: n('two_backends'),
      backend1: n('backend1'),
      backend2: n('backend2'),
      errors: n('errors'),
      ms: n('ms'),
      ...(typeof r.split === 'number' ? { split: r.split } : {}),
    };
  }
  if (r || raw.before.length) {
    const cf = counterFigures(raw.form, raw.before, raw.after);
    if ('error' in cf) res.notes.push(cf.error);
    else res.counters = cf;
  }
  if (res.counters && res.replies) {
    if (res.counters.era === 'post2020') {
      // clash_resolve counts merges and NAT_CLASH inserts alike; an insert is what lets the two
      // datagrams leave as two flows (two endpoints, or two source ports after SNAT), so the
      // trials whose replies differ in either tell the two apart (older reproducers: endpoints only).
      res.clashInserted = Math.min(res.replies.split ?? res.replies.twoBackends, res.counters.resolved);
      res.merged = res.counters.resolved - res.clashInserted;
    } else if (res.counters.era === 'pre2020') {
      res.merged = res.counters.resolved;
      res.clashInserted = 0;
    }
    if (res.replies.lost !== res.counters.drops) {
      res.notes.push(
        `lost replies (${res.replies.lost}) differ from the drop counter (${res.counters.drops}): drops outside the router or replies later than the timeout`,
      );
    }
  }
  if (res.control && res.counters && res.counters.clashes > 0)
    res.notes.push(`CONTROL CLASHED ${res.counters.clashes} times: the racing figures of this run are not trustworthy`);
  if (variant && res.replies && c?.model) {
    const m = modelFigures(c, variant, Math.max(1, o.modelTrials ?? res.replies.trials));
    if (m) {
      res.model = m;
      const lostPerTrial = res.replies.lost / Math.max(1, res.replies.trials);
      const p = res.counters?.pDropGivenClash;
      res.diff = {
        pDropGivenClash: p !== null && p !== undefined && m.pDropGivenClash !== null ? p - m.pDropGivenClash : null,
        lostPerTrial: lostPerTrial - m.lostPerTrial,
      };
      if (m.note) res.notes.push(`model: ${m.note}`);
    }
  } else if (c && !c.model) res.notes.push('the model has no scenario for this configuration');
  return res;
}

/**
 * The figures so far of a configuration that is still racing (its latest "partial" block), as a
 * result of their own: replies and counter deltas up to then, the model beside them for as many
 * trials. Null when the run has no partial figures. Counters read while packets were in flight
 * may trail the replies by a trial or two.
 */
export function partialConfigResult(raw: RawConfigRun, variant: ModelVariantId | null, o: ResultOptions = {}): ConfigResult | null {
  if (!raw.partial) return null;
  const { partial: p, ...rest } = raw;
  const after = p.after.length ? p.after : [];
  const r = configResult(
    { ...rest, result: p.result, after, form: after.length ? raw.form : 'none', ended: true, error: undefined },
    variant,
    o,
  );
  if (!after.length) r.notes = r.notes.filter((n) => !n.startsWith('no counters'));
  return r;
}

/**
 * A consumer of a run's lines as they come (console, or the probe's shell) that calls `emit` for
 * each figure: a configuration's figures so far at each "partial" line whose check passed, and
 * its whole result at its "result" line. Keeps only the current configuration's lines.
 */
export function figureStream(
  variant: ModelVariantId | null,
  emit: (c: ConfigResult, partial: boolean) => void,
  o: { configs?: readonly TestConfig[]; modelTrials?: number } = {},
): (line: string) => void {
  const opts = (name: string): ResultOptions => ({ config: o.configs?.find((c) => c.name === name), modelTrials: o.modelTrials });
  let live: string[] = [];
  let last: string | undefined;
  return (l) => {
    const at = l.indexOf('@@ctb ');
    if (at < 0) return;
    const tag = /^@@ctb (\S+)/.exec(l.slice(at))?.[1];
    if (tag === 'begin') live = [];
    live.push(l);
    if (tag !== 'partial' && tag !== 'result') return;
    const raw = parseRunLines(live).runs.at(-1);
    if (!raw) return;
    if (tag === 'partial') {
      // A partial that failed its check leaves the previous one: do not emit that twice.
      const key = raw.partial && JSON.stringify(raw.partial);
      if (!key || key === last) return;
      last = key;
      // The model beside figures so far runs as many trials as the kernel did (it runs again at each).
      const c = partialConfigResult(raw, variant, { config: opts(raw.config).config });
      if (c) emit(c, true);
    } else if (raw.result) {
      // Counters the console mangled are left to the whole run's table (read from the disk).
      const c = configResult({ ...raw, ended: true }, variant, opts(raw.config));
      if (c.counters || raw.form === 'none') emit(c, false);
    }
  };
}

/** One line for progress: "masq 2400/10000 trials: 180 clashes, 180 drops, 180 lost replies, P(drop|clash) 1.000 (model 1.000)". */
export function resultLine(c: ConfigResult, planned?: number): string {
  const n = c.replies?.trials ?? 0;
  const parts = [`${c.config} ${planned && n < planned ? `${n}/${planned}` : n} trials:`];
  if (c.counters) parts.push(`${c.counters.clashes} clashes, ${c.counters.drops} drops,`);
  parts.push(`${c.replies?.lost ?? '?'} lost replies`);
  const p = c.counters?.pDropGivenClash;
  if (p !== undefined && p !== null)
    parts.push(
      `, P(drop|clash) ${p.toFixed(3)}${c.model?.pDropGivenClash !== undefined && c.model.pDropGivenClash !== null ? ` (model ${c.model.pDropGivenClash.toFixed(3)})` : ''}`,
    );
  return parts.join(' ').replace(' ,', ',');
}

/** Durations between consecutive marks (s, millisecond precision); a missing mark leaves its phase out. */
export function phaseSeconds(marks: Record<string, number>): NonNullable<ConfigResult['phases']> {
  const order = ['begin', 'topology', 'rules', 'servers', 'race'] as const;
  const out: NonNullable<ConfigResult['phases']> = {};
  for (let i = 1; i < order.length; i++) {
    const a = marks[order[i - 1]];
    const b = marks[order[i]];
    if (a !== undefined && b !== undefined) out[order[i] as 'topology'] = Math.round((b - a) * 1000) / 1000;
  }
  return out;
}

export { COUNTER_NAMES };

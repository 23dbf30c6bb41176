// `probe`: the test plan's reproducers against the running kernel, in network namespaces this
// process creates and removes (root, Linux). Answers "is this node affected?" per race, with
// counter forensics: which counter forms exist here (/proc/net/stat/nf_conntrack needs
// CONFIG_NF_CONNTRACK_PROCFS; conntrack -S needs the conntrack tool, netlink and CAP_NET_ADMIN),
// which form each configuration read, and the static verdict of an open tree beside it.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProc, which } from '../git/proc';
import type { ModelVariantId } from '../model/variants';
import type { DetectionResult, RaceId } from '../types';
import { configProblem, parseConfigList, testConfig, type TestConfig } from './configs';
import { assetDir, compileRepro } from './rootfs';
import { configResult, figureStream, parseRunLines, resultLine, type ConfigResult } from './results';

export interface CounterForensics {
  /** /proc/net/stat/nf_conntrack in this (the init) namespace: its columns, or why not. */
  proc: { present: boolean; columns: string[]; why?: string };
  /** conntrack -S: the tool, and whether netlink answered. */
  netlink: { tool: string | null; works: boolean; why?: string };
  /** Counter columns whose meaning depends on the era (clash_resolve appeared with the 2020 rework). */
  era: 'pre2020' | 'post2020' | 'unknown';
}

export type MeasuredVerdict = 'affected' | 'not affected' | 'not observed' | 'not run';

export interface RaceMeasure {
  race: RaceId;
  verdict: MeasuredVerdict;
  /** The configurations and counters the verdict rests on. */
  because: string;
  /** The open tree's static verdict for the same race, when a tree was given. */
  staticVerdict?: string;
}

export interface ProbeResult {
  kernel: string;
  trials: number;
  forensics: CounterForensics;
  configs: ConfigResult[];
  races: RaceMeasure[];
  tree?: { path: string; release?: string; matchesRunningKernel?: boolean; variant: ModelVariantId };
  /** The model variant the predictions use, and where it came from. */
  variant: { id: ModelVariantId; from: 'tree' | 'kernel version' };
  ms: number;
}

export interface ProbeOptions {
  /** Built-in configurations by name (`a,b` lists and `all` accepted) and configurations of the caller's own (rules, mode, model). */
  configs?: (string | TestConfig)[];
  trials?: number;
  /** Trials for one configuration when it differs from `trials` (e.g. more for the rarer different-flow races). */
  trialsFor?: (c: TestConfig) => number | undefined;
  /** Model trials beside each configuration (default: as many as the kernel ran). */
  modelTrials?: number;
  replyTimeoutMs?: number;
  maxSecondsPerConfig?: number;
  iptables?: string;
  /** The detection of an open tree (static verdicts), and its model variant for the predictions. */
  detection?: DetectionResult;
  treePath?: string;
  treeRelease?: string;
  variant?: ModelVariantId;
  signal?: AbortSignal;
  progress?: (message: string) => void;
  /** Figures so far every this many ms while a configuration races (default 0: only at its end). */
  everyMs?: number;
  /** Each figure as it arrives (so far while racing, then the whole result). */
  onFigures?: (result: ConfigResult, o: { partial: boolean; trials: number }) => void;
}

/** Without an open tree, the model variant a mainline kernel of this version has (said so in the output). */
export function variantForRelease(release: string): ModelVariantId {
  const m = /^(\d+)\.(\d+)/.exec(release);
  const v = m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
  return v >= 6013 ? 'reverse2024' : v >= 5006 ? 'rework2020' : v >= 5000 ? 'both' : 'none';
}

export function probeRefusal(): string | null {
  if (process.platform !== 'linux') return `probe needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'probe needs root: it creates network namespaces, veth pairs and iptables rules (run it with sudo)';
  const miss = ['ip', 'gcc', 'sh', process.env.CTB_IPTABLES ?? 'iptables'].filter((t) => !which(t));
  if (miss.length) return `probe needs ${miss.join(', ')} (apt-get install iproute2 iptables gcc)`;
  return null;
}

export async function counterForensics(): Promise<CounterForensics> {
  const f: CounterForensics = {
    proc: { present: false, columns: [] },
    netlink: { tool: which('conntrack'), works: false },
    era: 'unknown',
  };
  try {
    const head = fs.readFileSync('/proc/net/stat/nf_conntrack', 'utf8').split('\n')[0];
    f.proc = { present: true, columns: head.trim().split(/\s+/) };
  } catch (e) {
    f.proc.why = fs.existsSync('/proc/net/stat')
      ? 'no /proc/net/stat/nf_conntrack: CONFIG_NF_CONNTRACK_PROCFS is off, or nf_conntrack is not loaded yet'
      : 'no /proc/net/stat';
    void e;
  }
  if (!f.netlink.tool) f.netlink.why = 'conntrack (conntrack-tools) not installed';
  else {
    try {
      await runProc(f.netlink.tool, ['-S'], { timeoutMs: 5000 });
      f.netlink.works = true;
    } catch (e) {
      f.netlink.why = `conntrack -S failed (netlink needs CAP_NET_ADMIN and nf_conntrack_netlink): ${(e as Error).message.slice(0, 120)}`;
    }
  }
  const cols = f.proc.columns;
  f.era = cols.includes('clashres') || cols.includes('clash_resolve') ? 'post2020' : cols.includes('insert_failed') ? 'pre2020' : 'unknown';
  return f;
}

/** Per race, from what the configurations measured (counter deltas in the era's units). */
export function raceVerdicts(configs: ConfigResult[], detection?: DetectionResult): RaceMeasure[] {
  const get = (n: string) => configs.find((c) => c.config === n && c.counters && c.replies);
  const stat = (r: RaceId) => (detection ? detection.races[r]?.verdict : undefined);
  const out: RaceMeasure[] = [];
  const masq = [get('masq'), get('dnat1')].filter((c): c is ConfigResult => !!c);
  const clashes = masq.reduce((s, c) => s + c.counters!.clashes, 0);
  const drops = masq.reduce((s, c) => s + c.counters!.drops, 0);
  const found = masq.reduce((s, c) => s + (c.counters!.deltas.found ?? 0), 0);
  const names = masq.map((c) => c.config).join(', ');
  // Race 1: identical tuples after NAT clash at confirm; unfixed, they drop without NAT picking another port.
  out.push(
    !masq.length
      ? { race: 'race1', verdict: 'not run', because: 'needs masq or dnat1' }
      : !clashes
        ? {
            race: 'race1',
            verdict: 'not observed',
            because: `${names}: no clash in ${masq.reduce((s, c) => s + c.replies!.trials, 0)} trials`,
          }
        : {
            race: 'race1',
            verdict: drops > found ? 'affected' : 'not affected',
            because: `${names}: ${clashes} clashes, ${drops} drops, found +${found}`,
          },
  );
  // Race 2: SNAT saw its own flow's entry as taken (found) and picked another port; unfixed, that entry then drops.
  out.push(
    !masq.length
      ? { race: 'race2', verdict: 'not run', because: 'needs masq or dnat1' }
      : !clashes && !found
        ? { race: 'race2', verdict: 'not observed', because: `${names}: no clash, found +0` }
        : {
            race: 'race2',
            verdict: found > 0 && drops > 0 ? 'affected' : 'not affected',
            because: `${names}: found +${found}, drops ${drops}`,
          },
  );
  const dn = [get('dnat2-random'), get('dnat2-nth')].filter((c): c is ConfigResult => !!c);
  const dc = dn.reduce((s, c) => s + c.counters!.clashes, 0);
  const dd = dn.reduce((s, c) => s + c.counters!.drops, 0);
  out.push(
    !dn.length
      ? { race: 'race3', verdict: 'not run', because: 'needs dnat2-random or dnat2-nth' }
      : !dc
        ? { race: 'race3', verdict: 'not observed', because: `${dn.map((c) => c.config).join(', ')}: no clash` }
        : {
            race: 'race3',
            verdict: dd > 0 ? 'affected' : 'not affected',
            because: `${dn.map((c) => c.config).join(', ')}: ${dc} clashes, ${dd} drops, two backends ${dn.reduce((s, c) => s + c.replies!.twoBackends, 0)}`,
          },
  );
  for (const r of out) if (stat(r.race)) r.staticVerdict = stat(r.race);
  return out;
}

/** Names and configurations of the caller's own, in the order given; refuses unknown names and bad rules. */
export function resolveConfigs(list: (string | TestConfig)[] | undefined): TestConfig[] {
  if (!list?.length) return parseConfigList(undefined).map((n) => testConfig(n)!);
  const out: TestConfig[] = [];
  for (const x of list) {
    if (typeof x === 'string') {
      for (const n of parseConfigList([x])) if (!out.some((c) => c.name === n)) out.push(testConfig(n)!);
      continue;
    }
    const why = configProblem(x);
    if (why) throw new Error(why);
    if (out.some((c) => c.name === x.name)) throw new Error(`configuration "${x.name}" given twice`);
    out.push(x);
  }
  return out;
}

export async function runProbe(o: ProbeOptions = {}): Promise<ProbeResult> {
  const t0 = Date.now();
  const refusal = probeRefusal();
  if (refusal) throw new Error(refusal);
  const configs = resolveConfigs(o.configs);
  const clampTrials = (n: number) => Math.max(1, Math.min(1_000_000, Math.floor(n)));
  const trials = clampTrials(o.trials ?? 3000);
  const maxS = Math.max(5, o.maxSecondsPerConfig ?? 120);
  const forensics = await counterForensics();
  const variant = o.variant ?? variantForRelease(os.release());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conntrack-backport-probe-'));
  const results: ConfigResult[] = [];
  try {
    o.progress?.('compiling the reproducers');
    await compileRepro(tmp, { static: false, signal: o.signal, configs });
    const script = path.join(assetDir(), 'guest', 'ctb-config.sh');
    for (const cfg of configs) {
      const name = cfg.name;
      const n = clampTrials(o.trialsFor?.(cfg) ?? trials);
      o.progress?.(`${name}: ${n} trials`);
      const prefix = `cbp${process.pid % 100000}`;
      const env = {
        ...process.env,
        CTB_IPTABLES: o.iptables ?? process.env.CTB_IPTABLES ?? 'iptables',
        CTB_EVERY_MS: String(Math.max(0, Math.floor(o.everyMs ?? 0))),
        PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`,
      };
      const r = await runProc('sh', [script, name, String(n), String(o.replyTimeoutMs ?? 10), String(maxS), tmp, prefix], {
        env,
        signal: o.signal,
        timeoutMs: (maxS + 60) * 1000,
        okCodes: [1],
        mergeStderr: true,
        onLine: figureStream(
          variant,
          (c, partial) => {
            o.progress?.(`${partial ? 'so far' : 'result'} ${resultLine(c, n)}`);
            o.onFigures?.(c, { partial, trials: n });
          },
          { configs: [cfg], modelTrials: o.modelTrials },
        ),
      }).catch(async (e) => {
        // A killed script cannot clean up: remove its namespaces here.
        for (const n of ['cli', 'rtr', 's1', 's2'])
          await runProc('ip', ['netns', 'del', `${prefix}-${n}`], { okCodes: [1, 2, 255] }).catch(() => undefined);
        throw e;
      });
      const parsed = parseRunLines(r.stdout.split('\n'));
      const raw = parsed.runs[0] ?? {
        config: name,
        before: [],
        after: [],
        form: 'none' as const,
        ended: false,
        error: r.stdout.trim().split('\n').slice(-2).join(' / ') || 'no output',
      };
      results.push(configResult(raw, variant, { config: cfg, modelTrials: o.modelTrials }));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const kernel = os.release();
  const res: ProbeResult = {
    kernel,
    trials,
    forensics,
    configs: results,
    races: raceVerdicts(results, o.detection),
    ms: Date.now() - t0,
    variant: { id: variant, from: o.variant ? 'tree' : 'kernel version' },
  };
  if (o.treePath && o.variant) {
    res.tree = {
      path: o.treePath,
      release: o.treeRelease,
      variant: o.variant,
      matchesRunningKernel: o.treeRelease ? kernel.startsWith(o.treeRelease.replace(/-.*$/, '')) : undefined,
    };
  }
  return res;
}

// A kernel-scale repository for the sweep bench, streamed into one `git fast-import`: a
// mainline of merge windows (dozens of topic branches merged per cycle, one of them the
// netfilter tree that changes nf_conntrack_core.c / nf_nat_core.c tens of times), -rc1..-rc7
// and release tags, then a stable branch per release (long-term lines with ~140 releases,
// the others with ~18) whose releases are backports on top of the fork, a few of them
// touching the conntrack files. The fixes land as in repo.ts (race 1 in 4.19, race 2 in 5.0,
// the rework in 5.6, the zone follow-up in 5.12, reverse collisions in 6.13) and are
// backported to the older long-term lines. File contents come from the project's generator;
// every tag records the generator's expectation for the file committed there.
//
// The stream is written as it is generated (never held whole), so a million commits fit in
// a few tens of MB of this process.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Era } from '../src/core/fixtures/eras';
import { eraOf, MAINLINE } from '../src/core/fixtures/repo';
import { FixtureExpectation, generateConntrackCore, generateNatCore, Race1State, Race2State } from '../src/core/fixtures/generate';
import { Rng } from '../src/core/fixtures/rng';

export const CORE = 'net/netfilter/nf_conntrack_core.c';
export const NAT = 'net/netfilter/nf_nat_core.c';

export interface ScaleOptions {
  /** Commits to aim for (the result lands within a few percent). */
  commits: number;
  seed?: number;
}

export interface ScaleRepo {
  dir: string;
  commits: number;
  tags: number;
  /** Distinct conntrack-file contents written (changes of the file over the whole history). */
  coreChanges: number;
  natChanges: number;
  /** Tag -> what the generator says the conntrack file committed there reads as. */
  truth: Record<string, FixtureExpectation>;
  buildMs: number;
}

const SUBJECT = {
  race1: 'netfilter: nf_conntrack: resolve clash for matching conntracks',
  race2: 'netfilter: nf_nat: skip nat clash resolution for same-origin entries',
  zone: 'netfilter: conntrack: skip identical origin tuple in same zone only',
  rework: 'netfilter: conntrack: allow insertion of clashing entries',
  reverse: 'netfilter: conntrack: add clash resolution for reverse collisions',
};
const UP = {
  race1: 'ed07d9a021df6da53456663a76999189badc432a',
  race2: '4e35c1cb9460240e983a01745b5f29fe3a4d8e39',
  zone: '07998281c2686e2eb5b3fd4d9b4d8a3f0e5c7d1a',
};

const LTS = new Set(['4.9', '4.14', '4.19', '5.4', '5.10', '5.15', '6.1', '6.6']);

interface CoreState {
  era: Era;
  race1: Race1State;
  race2: Race2State;
  zone: boolean;
  seed: number;
  /** Revision of the NAT file (a comment line): distinct NAT blobs without changing its findings. */
  nat: number;
}

/** Backpressure-aware writer into fast-import's stdin. */
class Stream {
  private parts: Buffer[] = [];
  private size = 0;
  private readonly child;
  private readonly done: Promise<void>;
  private next = 1;
  commits = 0;
  tags = 0;

  constructor(dir: string) {
    this.child = spawn('nice', ['-n', '10', 'git', 'fast-import', '--quiet', '--done'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    this.child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`git fast-import failed (${code}): ${err.slice(-2000)}`)),
      );
    });
  }

  text(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.parts.push(b);
    this.size += b.length;
  }

  data(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.text(`data ${b.length}\n`);
    this.parts.push(b, Buffer.from('\n'));
    this.size += b.length + 1;
  }

  async flush(force = false): Promise<void> {
    if (!force && this.size < 4 << 20) return;
    const chunk = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    if (!this.child.stdin.write(chunk)) await new Promise((r) => this.child.stdin.once('drain', r));
  }

  /** A commit on `ref`; returns its mark. `files`: path -> content, null deletes. */
  async commit(
    ref: string,
    time: number,
    message: string,
    files: [string, string | null][],
    from?: number,
    merges: number[] = [],
  ): Promise<number> {
    const m = this.next++;
    this.text(
      `commit ${ref}\nmark :${m}\nauthor Bench Author <bench@example.invalid> ${time} +0000\ncommitter Bench Author <bench@example.invalid> ${time} +0000\n`,
    );
    this.data(message);
    if (from) this.text(`from :${from}\n`);
    for (const p of merges) this.text(`merge :${p}\n`);
    for (const [p, c] of files) {
      if (c === null) this.text(`D ${p}\n`);
      else {
        this.text(`M 100644 inline ${p}\n`);
        this.data(c);
      }
    }
    this.text('\n');
    this.commits++;
    await this.flush();
    return m;
  }

  tag(name: string, from: number, time: number): void {
    this.text(`tag ${name}\nfrom :${from}\ntagger Bench Tagger <tagger@example.invalid> ${time} +0000\n`);
    this.data(`Linux ${name}\n`);
    this.tags++;
  }

  reset(ref: string, from: number): void {
    this.text(`reset ${ref}\nfrom :${from}\n\n`);
  }

  async end(): Promise<void> {
    this.text('done\n');
    await this.flush(true);
    this.child.stdin.end();
    await this.done;
  }
}

export async function buildScaleRepo(dir: string, opts: ScaleOptions): Promise<ScaleRepo> {
  const t0 = performance.now();
  const rng = new Rng(opts.seed ?? 14);
  fs.mkdirSync(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const c = spawn('git', ['init', '-q', '-b', 'master'], { cwd: dir, stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git init failed (${code})`))));
  });
  const s = new Stream(dir);
  const truth: Record<string, FixtureExpectation> = {};
  const texts = new Map<string, { text: string; expect: FixtureExpectation }>();
  let seed = 1000;
  let coreChanges = 0;
  let natChanges = 0;
  const coreText = (st: CoreState): { text: string; expect: FixtureExpectation } => {
    const key = JSON.stringify(st);
    let f = texts.get(key);
    if (!f) {
      const g = generateConntrackCore({ era: st.era, race1: st.race1, race2: st.race2, zone: st.zone, seed: st.seed });
      f = { text: g.text, expect: g.expect };
      // Only tagged states are looked at again; keep the map small.
      if (texts.size > 64) texts.clear();
      texts.set(key, f);
    }
    return f;
  };
  const natText = (st: CoreState): string => `${generateNatCore({ azure952939: false })}\n/* bench revision ${st.nat} */\n`;
  const coreFiles = (st: CoreState, prev: CoreState | null): [string, string][] => {
    const out: [string, string][] = [[CORE, coreText(st).text]];
    coreChanges++;
    if (!prev || prev.nat !== st.nat) {
      out.push([NAT, natText(st)]);
      natChanges++;
    }
    return out;
  };

  // Mainline shape: commits per cycle so that mainline + stable reach the target.
  const stableReleases = MAINLINE.reduce((n, [a, b]) => n + (LTS.has(`${a}.${b}`) ? 140 : 18), 0);
  const perStableRelease = 150;
  const perCycle = Math.max(600, Math.round((opts.commits - stableReleases * (perStableRelease + 1)) / MAINLINE.length));
  const TOPICS = 40;

  let clock = Date.UTC(2016, 11, 11) / 1000;
  let state: CoreState = { era: '4.9', race1: 'none', race2: 'none', zone: false, seed: ++seed, nat: 1 };
  let fillerRev = 0;
  // Tree shape like the kernel's: ~20 top-level directories, ~30 subdirectories each, and
  // net/netfilter/ holding ~150 files that change often (so its tree changes often too).
  const TOP = [
    'arch',
    'block',
    'crypto',
    'drivers',
    'fs',
    'include',
    'init',
    'ipc',
    'kernel',
    'lib',
    'mm',
    'net',
    'samples',
    'scripts',
    'security',
    'sound',
    'tools',
    'usr',
    'virt',
    'certs',
  ];
  const filler = (dirIdx: number): [string, string] => {
    const r = ++fillerRev;
    const body = `/* bench filler ${r} */\nint bench_${r};\n`;
    if (rng.next() < 0.04) return [`net/netfilter/xt_bench${rng.int(150)}.c`, body];
    return [`${TOP[(dirIdx + rng.int(3)) % TOP.length]}/s${rng.int(30)}/f${rng.int(40)}.c`, body];
  };
  let master = await s.commit('refs/heads/master', clock, 'Initial import\n', [
    ...coreFiles(state, null),
    ['Makefile', '# start\n'],
    ['README', 'Linux kernel (bench)\n'],
  ]);
  const forks = new Map<string, { mark: number; state: CoreState; time: number }>();

  // A topic branch forked at `base`: `n` commits; `core` of them change the conntrack file
  // (the event, when given, is the first). Returns its tip, the files it changed and its state.
  const topic = async (
    name: string,
    base: number,
    baseState: CoreState,
    n: number,
    core: number,
    dirIdx: number,
    event?: { next: Partial<CoreState>; message: string },
  ): Promise<{ tip: number; files: Map<string, string>; state: CoreState }> => {
    const files = new Map<string, string>();
    let st = baseState;
    let tip = base;
    const coreAt = new Set<number>();
    while (coreAt.size < Math.min(core, n)) coreAt.add(rng.int(n));
    let first = true;
    for (let i = 0; i < n; i++) {
      clock += 37;
      let change: [string, string][];
      let msg: string;
      if (coreAt.has(i)) {
        const prev = st;
        if (event && first) {
          st = { ...st, ...event.next, seed: ++seed };
          msg = event.message;
          first = false;
        } else {
          st = { ...st, seed: ++seed, nat: rng.next() < 0.15 ? st.nat + 1 : st.nat };
          msg = `netfilter: conntrack: tidy ${seed}\n`;
        }
        change = coreFiles(st, prev);
      } else {
        change = [filler(dirIdx)];
        msg = `${name}: change ${fillerRev}\n`;
      }
      for (const [p, c] of change) files.set(p, c);
      tip = await s.commit(`refs/heads/${name}`, clock, msg, change, tip === base ? base : undefined);
    }
    return { tip, files, state: st };
  };
  const mergeInto = async (tip: number, t: { tip: number; files: Map<string, string> }, message: string): Promise<number> => {
    clock += 60;
    return s.commit('refs/heads/master', clock, message, [...t.files], tip, [t.tip]);
  };
  const release = async (ref: string, from: number, name: string, st: CoreState): Promise<number> => {
    clock += 120;
    const m = await s.commit(ref, clock, `Linux ${name}\n`, [['Makefile', `# release\nNAME = ${name}\n`]], from);
    s.tag(name, m, clock + 60);
    truth[name] = coreText(st).expect;
    return m;
  };

  for (const [maj, min] of MAINLINE) {
    const v = `v${maj}.${min}`;
    const era = eraOf(maj, min);
    const event =
      v === 'v4.19'
        ? {
            next: { race1: 'upstream' as Race1State, era },
            message: `${SUBJECT.race1}\n\nResolve clash when both entries match in both directions.\n`,
          }
        : v === 'v5.0'
          ? {
              next: { race2: 'upstream' as Race2State, era },
              message: `${SUBJECT.race2}\n\nSkip entries whose ORIGINAL tuple equals ours.\n`,
            }
          : v === 'v5.6'
            ? { next: { era }, message: `${SUBJECT.rework}\n` }
            : v === 'v5.12'
              ? { next: { zone: true }, message: `${SUBJECT.zone}\n\nFixes: 4e35c1cb9460 ("${SUBJECT.race2}")\n` }
              : v === 'v6.13'
                ? { next: { era }, message: `${SUBJECT.reverse}\n` }
                : era !== state.era
                  ? { next: { era }, message: `netfilter: conntrack: ${v} merge window changes\n` }
                  : undefined;
    // Merge window: topic branches forked at the last release, merged one after another.
    const base = master;
    const baseState = state;
    const windowCommits = Math.round(perCycle * 0.8);
    const nf = rng.int(TOPICS);
    for (let t = 0; t < TOPICS; t++) {
      const n = Math.max(2, Math.round((windowCommits / TOPICS) * (0.5 + rng.next())));
      const isNf = t === nf;
      const tp = await topic(isNf ? 'nf-next' : `topic-${t}`, base, baseState, n, isNf ? 30 + rng.int(20) : 0, t, isNf ? event : undefined);
      master = await mergeInto(master, tp, `Merge tag '${isNf ? 'nf-next' : `topic-${t}`}-${v}' of git://example.invalid/${t}\n`);
      if (isNf) state = tp.state;
    }
    master = await release('refs/heads/master', master, `${v}-rc1`, state);
    for (let rc = 2; rc <= 8; rc++) {
      const fixes = Math.round((perCycle * 0.2) / 7);
      for (let f = 0; f < 3; f++) {
        const touch = f === 0 && rng.next() < 0.4;
        const tp = await topic(
          touch ? 'nf' : `fixes-${f}`,
          master,
          state,
          Math.max(2, Math.round(fixes / 3)),
          touch ? 1 + rng.int(2) : 0,
          32 + f,
        );
        master = await mergeInto(master, tp, `Merge tag '${touch ? 'nf' : `fixes-${f}`}-${v}-rc${rc}'\n`);
        if (touch) state = tp.state;
      }
      master = await release('refs/heads/master', master, rc === 8 ? v : `${v}-rc${rc}`, state);
    }
    forks.set(`${maj}.${min}`, { mark: master, state: { ...state }, time: clock });
    clock += 20 * 86400;
  }
  s.reset('refs/heads/master', master);

  // Stable lines: backports on top of each release, a few touching the conntrack file.
  const backports: Record<string, [number, keyof typeof SUBJECT & ('race1' | 'race2' | 'zone'), Partial<CoreState>][]> = {
    '4.9': [
      [0.5, 'race2', { race2: 'upstream' }],
      [0.85, 'zone', { zone: true }],
    ],
    '4.14': [
      [0.4, 'race2', { race2: 'upstream' }],
      [0.65, 'race1', { race1: 'upstream' }],
      [0.85, 'zone', { zone: true }],
    ],
    '4.19': [
      [0.3, 'race2', { race2: 'upstream' }],
      [0.85, 'zone', { zone: true }],
    ],
    '5.4': [[0.7, 'zone', { zone: true }]],
    '5.10': [[0.5, 'zone', { zone: true }]],
  };
  for (const [maj, min] of MAINLINE) {
    const ver = `${maj}.${min}`;
    const fork = forks.get(ver)!;
    const ref = `refs/heads/linux-${ver}.y`;
    let tip = fork.mark;
    let st = fork.state;
    clock = fork.time;
    const total = LTS.has(ver) ? 140 : 18;
    const events = (backports[ver] ?? []).map(([at, fix, next]) => ({ k: Math.max(1, Math.round(at * total)), fix, next }));
    for (let k = 1; k <= total; k++) {
      const n = Math.max(4, Math.round(perStableRelease * (0.4 + 1.2 * rng.next())));
      const coreAt = new Set<number>();
      for (const e of events) if (e.k === k) coreAt.add(0);
      if (rng.next() < 0.12) coreAt.add(1 + rng.int(n - 1));
      for (let i = 0; i < n; i++) {
        clock += 300;
        let change: [string, string][];
        let msg: string;
        const ev = i === 0 ? events.find((e) => e.k === k) : undefined;
        if (ev) {
          const prev = st;
          st = { ...st, ...ev.next, seed: ++seed };
          change = coreFiles(st, prev);
          msg = `${SUBJECT[ev.fix]}\n\n[ Upstream commit ${UP[ev.fix]} ]\n\nSigned-off-by: Stable Maintainer <stable@example.invalid>\n`;
        } else if (coreAt.has(i)) {
          const prev = st;
          st = { ...st, seed: ++seed };
          change = coreFiles(st, prev);
          msg = `netfilter: conntrack: stable fix ${seed}\n\n[ Upstream commit ${(seed * 2654435761).toString(16).padStart(40, '0').slice(-40)} ]\n`;
        } else {
          change = [filler(40 + (k % 8))];
          msg = `stable: backport ${fillerRev}\n`;
        }
        tip = await s.commit(ref, clock, msg, change, tip === fork.mark ? fork.mark : undefined);
      }
      const name = `v${ver}.${k}`;
      tip = await release(ref, tip, name, st);
      clock += 5 * 86400;
    }
    s.reset(ref, tip);
  }
  await s.end();
  const del = spawn(
    'git',
    ['for-each-ref', '--format=delete %(refname)', 'refs/heads/topic-*', 'refs/heads/fixes-*', 'refs/heads/nf-next', 'refs/heads/nf'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let dels = '';
  del.stdout.on('data', (b: Buffer) => (dels += b.toString()));
  await new Promise((r) => del.on('close', r));
  await new Promise<void>((resolve, reject) => {
    const u = spawn('git', ['update-ref', '--stdin'], { cwd: dir, stdio: ['pipe', 'ignore', 'inherit'] });
    u.on('error', reject);
    u.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`update-ref failed (${code})`))));
    u.stdin.end(dels);
  });
  return { dir, commits: s.commits, tags: s.tags, coreChanges, natChanges, truth, buildMs: performance.now() - t0 };
}

/** Bumped whenever the shape above changes, so an old cached repository is not reused. */
const SHAPE_VERSION = 1;

function git(dir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('nice', ['-n', '10', 'git', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`git ${args.join(' ')} failed (${code}): ${err.slice(-500)}`))));
  });
}

export const GRAPH_FILE = 'objects/info/commit-graph';
const GRAPH_SAVED = 'objects/info/commit-graph.bench-saved';

/**
 * The repository for (commits, seed), built once into ~/.cache/conntrack-backport/bench/ and
 * reused: its commit-graph with changed-path Bloom filters is written and set aside, so the
 * bench can sweep the same objects with (`useCommitGraph(dir, true)`) and without it.
 */
export async function cachedScaleRepo(opts: ScaleOptions, log: (s: string) => void): Promise<ScaleRepo> {
  const home = process.env.CONNTRACK_BACKPORT_BENCH_CACHE ?? `${process.env.HOME}/.cache/conntrack-backport/bench`;
  const root = `${home}/sweep-v${SHAPE_VERSION}-${opts.commits}-${opts.seed ?? 14}`;
  const meta = `${root}/repo.json`;
  if (fs.existsSync(meta)) return JSON.parse(fs.readFileSync(meta, 'utf8')) as ScaleRepo;
  fs.rmSync(root, { recursive: true, force: true });
  log(`building a ${opts.commits}-commit repository in ${root} (once; git fast-import under nice -n 10)`);
  const repo = await buildScaleRepo(`${root}/linux`, opts);
  log(
    `  ${repo.commits} commits, ${repo.tags} tags in ${(repo.buildMs / 1000).toFixed(0)} s; writing the commit-graph with changed-path Bloom filters`,
  );
  const gitDir = `${root}/linux/.git`;
  await git(`${root}/linux`, ['config', 'gc.auto', '0']);
  const t = performance.now();
  await git(`${root}/linux`, ['commit-graph', 'write', '--reachable', '--changed-paths']);
  log(`  commit-graph written in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  fs.renameSync(`${gitDir}/${GRAPH_FILE}`, `${gitDir}/${GRAPH_SAVED}`);
  fs.writeFileSync(meta, JSON.stringify(repo));
  return repo;
}

/** Put the bench repository's commit-graph in place (true) or set it aside (false). */
export function useCommitGraph(dir: string, on: boolean): void {
  const g = `${dir}/.git/${GRAPH_FILE}`;
  const saved = `${dir}/.git/${GRAPH_SAVED}`;
  if (on && fs.existsSync(saved)) fs.renameSync(saved, g);
  if (!on && fs.existsSync(g)) fs.renameSync(g, saved);
}

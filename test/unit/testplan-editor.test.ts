// The pieces of "Run Test Plan in a VM" that need no editor: cancelling a run during the build
// leaves no process behind (checked with ps), the panel's view of a result, and the progress
// arithmetic of the notification.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { buildKernel, resolveTree, type TestPlanResult } from '../../src/core/testplan';
import { liveTestPlanView, progressFraction, stageOf, testPlanView, type LiveFigures } from '../../src/testplan/view';
import { parseRunLines, partialConfigResult } from '../../src/core/testplan';

/** A git tree whose Makefile's configuration step is slow: make, then a shell, then a sleep. */
function slowTree(marker: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-slow-'));
  fs.mkdirSync(path.join(dir, 'net/netfilter'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'net/netfilter/nf_conntrack_core.c'), generateConntrackCore({ era: '4.15', fullSize: false }).text);
  fs.writeFileSync(
    path.join(dir, 'Makefile'),
    `VERSION = 4\nPATCHLEVEL = 15\nSUBLEVEL = 0\n\ntinyconfig:\n\tsh -c 'sleep ${marker}; true'\n`,
  );
  const g = (...a: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=T', '-c', 'user.email=t@example.invalid', ...a], { stdio: 'ignore' });
  g('init', '-q');
  g('add', '-A');
  g('commit', '-q', '-m', 'slow tree');
  return dir;
}

const running = (needle: string) =>
  execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle) && !l.startsWith('Z'));

test('cancelling during the build kills make and everything it started (ps shows none of them)', async () => {
  const marker = `${70 + (process.pid % 20)}.4321`;
  const tree = slowTree(marker);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-cache-'));
  try {
    const t = await resolveTree(tree);
    const ac = new AbortController();
    const phases: string[] = [];
    const build = buildKernel(t, {
      cache,
      signal: ac.signal,
      progress: (phase) => {
        phases.push(phase);
      },
    });
    // Wait until the sleep under make is really running, then cancel.
    const t0 = Date.now();
    while (!running(`sleep ${marker}`).length && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    assert.ok(running(`sleep ${marker}`).length, 'the slow configuration step started');
    assert.ok(running(`O=${cache}`).length, 'make runs with the build folder in the cache');
    ac.abort();
    await assert.rejects(build, /cancelled/);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(running(`sleep ${marker}`), [], 'no sleep left');
    assert.deepEqual(running(`O=${cache}`), [], 'no make left');
    assert.ok(phases.includes('export') && phases.includes('config'), phases.join(','));
    // Nothing was written into the user's tree.
    assert.deepEqual(fs.readdirSync(tree).sort(), ['.git', 'Makefile', 'net']);
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test("the panel's view: one row per configuration, measured beside the model; errors kept", () => {
  const r = {
    tree: '/t',
    release: '4.14.67',
    kind: 'git',
    commit: 'c'.repeat(40),
    uncommitted: [],
    trials: 100,
    configs: ['masq'],
    iptables: 'legacy',
    rootfsMs: 0,
    totalMs: 61_000,
    command: 'conntrack-backport testplan /t --trials 100',
    plan: { steps: ['1. cherry-pick ed07d9a021df'], files: ['net/netfilter/nf_conntrack_core.c'] },
    runs: [
      {
        label: 'before',
        source: 'cccccccccccc',
        variant: 'none',
        variantCaveats: [],
        build: { cached: true, buildMs: 0 },
        boot: { accel: 'tcg', bootMs: 6800, firstResultMs: 9100, firstFigureMs: 8200, ms: 20_000 },
        configs: [
          {
            config: 'masq',
            title: 'MASQUERADE',
            control: false,
            notes: ['n'],
            replies: { trials: 100, lost: 7, twoBackends: 0 },
            counters: { clashes: 7, drops: 7, pDropGivenClash: 1 },
            model: { pDropGivenClash: 1, lostPerTrial: 0.01 },
            diff: { pDropGivenClash: 0, lostPerTrial: 0.06 },
          },
        ],
      },
      { label: 'after', source: 'x + plan', variant: 'both', variantCaveats: [], configs: [], error: 'make failed' },
    ],
  } as unknown as TestPlanResult;
  const v = testPlanView(r, new Date('2026-12-03T09:00:00Z'));
  assert.equal(v.runs.length, 2);
  assert.deepEqual(
    { ...v.runs[0].rows[0], notes: undefined, title: undefined },
    {
      config: 'masq',
      title: undefined,
      control: false,
      trials: 100,
      clashes: 7,
      drops: 7,
      lost: 7,
      pDropGivenClash: 1,
      twoBackends: 0,
      modelPDropGivenClash: 1,
      modelLostPerTrial: 0.01,
      diffLostPerTrial: 0.06,
      error: undefined,
      notes: undefined,
    },
  );
  assert.match(v.runs[0].summary, /kernel cached; tcg, \/init after 6\.8 s, first figure after 8\.2 s, first whole result after 9\.1 s/);
  assert.equal(v.runs[1].error, 'make failed');
  assert.equal(v.plan, '1. cherry-pick ed07d9a021df');
  assert.equal(v.at, '2026-12-03T09:00:00.000Z');
});

test('progress: stages map from the core phases; the fraction only grows through a before/after run', () => {
  assert.equal(stageOf('export'), 'build');
  assert.equal(stageOf('config'), 'build');
  assert.equal(stageOf('rootfs'), 'boot');
  assert.equal(stageOf('run'), 'run');
  const seq: [number, 'build' | 'boot' | 'run', number][] = [
    [0, 'build', 0],
    [0, 'boot', 0],
    [0, 'run', 1],
    [0, 'run', 3],
    [1, 'build', 0],
    [1, 'boot', 0],
    [1, 'run', 3],
  ];
  const f = seq.map(([v, s, d]) => progressFraction(v, 2, s, d, 3));
  for (let i = 1; i < f.length; i++) assert.ok(f[i] >= f[i - 1], f.join(' '));
  assert.equal(f[f.length - 1], 1);
});

test('figures so far in the panel: one row per configuration with a figure, trials so far, marked running or cancelled', () => {
  const hdr =
    'entries  searched found new invalid ignore delete delete_list insert insert_failed drop  early_drop icmp_error  expect_new expect_create expect_delete search_restart';
  const row = (insf: number) =>
    [
      '00000001',
      ...Array(8).fill('00000000'),
      insf.toString(16).padStart(8, '0'),
      insf.toString(16).padStart(8, '0'),
      ...Array(6).fill('00000000'),
    ].join(' ');
  const raw = parseRunLines(['@@ctb begin masq', '@@ctb sb-form proc', `@@ctb sb ${hdr}`, `@@ctb sb ${row(0)}`]).runs[0];
  raw.partial = {
    result: { trials: 1200, sent: 2400, replies: 2390, lost: 10, lost_trials: 10, two_backends: 0 },
    after: [hdr, row(10)],
  };
  const c = partialConfigResult(raw, 'none')!;
  const live: LiveFigures = { tree: '/t', release: '4.14.67', trials: 10000, command: '', startedAt: 1000, runs: [] };
  live.runs.push({ label: 'before', variant: 'none', configs: new Map([['masq', c]]) });
  const v = liveTestPlanView(live, 'running', 31_000);
  assert.equal(v.state, 'running');
  assert.equal(v.totalMs, 30_000);
  assert.equal(v.runs[0].rows.length, 1);
  assert.equal(v.runs[0].rows[0].trials, 1200);
  assert.equal(v.runs[0].rows[0].clashes, 10);
  assert.equal(v.runs[0].rows[0].drops, 10);
  assert.equal(v.runs[0].rows[0].modelPDropGivenClash, 1, 'the model beside the figures so far');
  assert.equal(liveTestPlanView(live, 'cancelled').runs[0].source, 'figures up to the cancel');
});

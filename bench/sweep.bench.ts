// Sweep bench at kernel scale: a generated repository of ~1M commits and ~2,200 tags (merge
// windows, -rc tags, stable lines with backports; bench/sweepRepo.ts, cached under
// ~/.cache/conntrack-backport/bench), swept by the matrix core without and with git's
// commit-graph (changed-path Bloom filters): first sweep, second sweep (nothing moved, kept
// sweep), one new tag on a new commit (incremental), each in its own process for its peak RSS.
// Beside it, in the same run, the naive way: per ref one `git show` + one full detection and
// one path-limited `git log` for its history (sampled: a log walks the whole history).
// Usage: npm run bench:sweep [-- --commits N] [--naive-sample N] [--naive-log-sample N]

import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { detectBuffer } from '../src/core/detect';
import { generateConntrackCore } from '../src/core/fixtures/generate';
import { cachedScaleRepo, CORE, NAT, useCommitGraph } from './sweepRepo';

const run = promisify(execFile);

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

interface Measured {
  refs: number;
  ms: number;
  refsPerSecond: number;
  stats: Record<string, unknown>;
}

interface RunResult {
  first: Measured;
  cold: Measured | null;
  coldNote: string;
  second: Measured;
  newTag: Measured;
  nodeMaxRssMB: number;
  verdicts: { checked: number; wrong: string[] };
  hints: string[];
}

/** One variant in a child process (`node sweepRun.js`), under /usr/bin/time for the tree's peak RSS. */
function runChild(dir: string): Promise<{ result: RunResult; treeMaxRssMB: number | null; cpuS: number | null }> {
  const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-sweep-keep-'));
  const script = path.join(__dirname, 'sweepRun.js');
  const useTime = fs.existsSync('/usr/bin/time');
  const argv = useTime
    ? ['/usr/bin/time', '-f', 'MAXRSS %M CPU %U %S', process.execPath, script, dir, keep]
    : [process.execPath, script, dir, keep];
  return new Promise((resolve, reject) => {
    const c = spawn('nice', ['-n', '10', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      fs.rmSync(keep, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`sweep run failed (${code}): ${err.slice(-3000)}`));
      const m = /MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)/.exec(err);
      resolve({
        result: JSON.parse(out) as RunResult,
        treeMaxRssMB: m ? Number(m[1]) / 1024 : null,
        cpuS: m ? Number(m[2]) + Number(m[3]) : null,
      });
    });
  });
}

async function naive(
  dir: string,
  sample: number,
  logSample: number,
): Promise<{ refsPerSecond: number; showDetectMs: number; logMs: number; refs: number; logs: number; of: number }> {
  const refs = (await run('git', ['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/tags'], { cwd: dir })).stdout
    .trim()
    .split('\n');
  const step = Math.max(1, Math.floor(refs.length / sample));
  const picked = refs.filter((_, i) => i % step === 0).slice(0, sample);
  await detectBuffer(Buffer.from(generateConntrackCore({ era: '5.4', seed: 1, fullSize: false }).text), 'warmup.c');
  let t = performance.now();
  for (const ref of picked) {
    try {
      const { stdout } = await run('nice', ['-n', '10', 'git', 'show', `${ref}:${CORE}`], {
        cwd: dir,
        encoding: 'buffer',
        maxBuffer: 16 << 20,
      });
      await detectBuffer(stdout as Buffer, 'nf_conntrack_core.c');
    } catch {
      // absent at this ref: the naive loop pays the git call anyway
    }
  }
  const showDetectMs = (performance.now() - t) / picked.length;
  const logPicked = picked.filter((_, i) => i % Math.max(1, Math.floor(picked.length / logSample)) === 0).slice(0, logSample);
  t = performance.now();
  for (const ref of logPicked)
    await run('nice', ['-n', '10', 'git', 'log', '--full-history', '--no-merges', '--format=%H%x00%s%x00%b', ref, '--', CORE, NAT], {
      cwd: dir,
      maxBuffer: 256 << 20,
    });
  const logMs = (performance.now() - t) / logPicked.length;
  return {
    refsPerSecond: 1000 / (showDetectMs + logMs),
    showDetectMs,
    logMs,
    refs: picked.length,
    logs: logPicked.length,
    of: refs.length,
  };
}

const f0 = (n: number): string => n.toFixed(0);

async function main(): Promise<void> {
  const commits = arg('commits', 1_050_000);
  const repo = await cachedScaleRepo({ commits }, (s) => console.log(s));
  console.log(
    `repository: ${repo.commits} commits, ${repo.tags} tags; nf_conntrack_core.c written ${repo.coreChanges} times, nf_nat_core.c ${repo.natChanges} (${repo.dir})`,
  );
  console.log(
    `machine: ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (shared: figures vary with the load)`,
  );
  const table: string[] = [
    '| variant | first sweep (warm) | first sweep (cold page cache) | second (nothing moved) | one new tag | peak RSS (node / with git) | history walk ms | naive per ref |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const results: Record<string, unknown> = { commits: repo.commits, tags: repo.tags };
  // A clone keeps its refs in packed-refs with the peeled value of every tag (fast-import wrote
  // them loose): so does the bench repository, as linux-stable's would be.
  await run('git', ['pack-refs', '--all'], { cwd: repo.dir });
  console.log('refs: packed (packed-refs with peeled tags, as a clone has them)');
  for (const [label, on] of [
    ['without commit-graph', false],
    ['with commit-graph + Bloom', true],
  ] as const) {
    useCommitGraph(repo.dir, on);
    const { result: r, treeMaxRssMB, cpuS } = await runChild(repo.dir);
    const nv = await naive(repo.dir, arg('naive-sample', 150), arg('naive-log-sample', 3));
    const st = r.first.stats as { ms: Record<string, number>; graphCommits: number; historyCommits: number; distinctBlobs: number };
    console.log(`\n${label}:`);
    console.log(
      `  first sweep (warm page cache): ${r.first.refs} refs in ${f0(r.first.ms)} ms = ${f0(r.first.refsPerSecond)} refs/s (${st.distinctBlobs} blobs detected, ${st.graphCommits}-node history graph, ${st.historyCommits} history commits)`,
    );
    console.log(
      `    stages (ms): ${Object.entries(st.ms)
        .map(([k, v]) => `${k} ${f0(v)}`)
        .join(', ')}`,
    );
    const stages = (m: Measured): string =>
      Object.entries((m.stats as { ms: Record<string, number> }).ms)
        .map(([k, v]) => `${k} ${f0(v)}`)
        .join(', ');
    if (r.cold)
      console.log(
        `  first sweep, cold page cache (dropped before it): ${f0(r.cold.ms)} ms = ${f0(r.cold.refsPerSecond)} refs/s; stages (ms): ${stages(r.cold)}`,
      );
    else console.log(`  first sweep, cold page cache: ${r.coldNote}`);
    console.log(`  second sweep (nothing moved): ${f0(r.second.ms)} ms = ${f0(r.second.refsPerSecond)} refs/s`);
    const nt = r.newTag.stats as { historyWalk?: string; linesWalk?: string; detectedNow?: number };
    console.log(
      `  one new tag on a new commit: ${f0(r.newTag.ms)} ms = ${f0(r.newTag.refsPerSecond)} refs/s (history ${nt.historyWalk}, lines ${nt.linesWalk}, ${nt.detectedNow} detected); stages (ms): ${stages(r.newTag)}, the rest writing the kept sweep`,
    );
    console.log(`  CPU (node + git, all three sweeps): ${cpuS?.toFixed(1) ?? '?'} s; load average now ${os.loadavg()[0].toFixed(1)}`);
    console.log(
      `  peak RSS: node ${f0(r.nodeMaxRssMB)} MB${treeMaxRssMB ? `, largest of node and its git processes ${f0(treeMaxRssMB)} MB` : ''}`,
    );
    console.log(
      `  verdicts against the generator: ${r.verdicts.checked} tags, ${r.verdicts.wrong.length} wrong${r.verdicts.wrong.length ? `: ${r.verdicts.wrong.slice(0, 5).join('; ')}` : ''}`,
    );
    if (r.hints.length) console.log(`  hint printed: ${r.hints.join(' ')}`);
    console.log(
      `  naive baseline (same run): git show + detect ${f0(nv.showDetectMs)} ms/ref (${nv.refs} refs), path-limited git log ${f0(nv.logMs)} ms/ref (${nv.logs} refs) = ${nv.refsPerSecond.toFixed(2)} refs/s; a full naive run ≈ ${f0(nv.of / nv.refsPerSecond)} s`,
    );
    table.push(
      `| ${label} | ${f0(r.first.refsPerSecond)} refs/s | ${r.cold ? `${f0(r.cold.refsPerSecond)} refs/s (${f0(r.cold.ms)} ms)` : 'not measured'} | ${f0(r.second.refsPerSecond)} refs/s | ${f0(r.newTag.ms)} ms | ${f0(r.nodeMaxRssMB)} / ${treeMaxRssMB ? f0(treeMaxRssMB) : '?'} MB | ${f0(st.ms.history)} | ${nv.refsPerSecond.toFixed(2)} refs/s |`,
    );
    results[label] = { ...r, treeMaxRssMB, cpuS, naive: nv };
  }
  useCommitGraph(repo.dir, true);
  console.log(`\n${repo.commits} commits, ${repo.tags} tags; targets: first >= 500 refs/s, second >= 5,000 refs/s, peak RSS <= 500 MB\n`);
  console.log(table.join('\n'));
  fs.mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '../../bench/results/sweep.json'), JSON.stringify(results, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// Sweep bench: a generated repository of >= 2,000 tags, swept by the matrix core, beside the
// naive way (one `git show` and one full detection per ref) measured in the same run.
// Usage: npm run bench:sweep [-- --scale N] [--naive-sample N] [--keep] [--no-nat]
// The trees carry nf_nat_core.c too (scanned per distinct blob) unless --no-nat.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { detectBuffer } from '../src/core/detect';
import { buildKernelRepo } from '../src/core/fixtures/repo';
import { generateConntrackCore } from '../src/core/fixtures/generate';
import { sweep } from '../src/core/matrix';

const run = promisify(execFile);

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const scale = arg('scale', 5);
  const sample = arg('naive-sample', 300);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-sweep-bench-'));
  const dir = path.join(tmp, 'linux');
  const repo = await buildKernelRepo(dir, { scale, seed: 11, nat: !process.argv.includes('--no-nat') });
  console.log(`repository: ${repo.tags} tags, ${repo.commits} commits, built with git fast-import in ${repo.buildMs.toFixed(0)} ms (${dir})`);

  // Load the parser once outside both measurements: neither side should pay wasm start-up.
  await detectBuffer(Buffer.from(generateConntrackCore({ era: '5.4', seed: 1, fullSize: false }).text), 'warmup.c');

  const results: Record<string, unknown> = { tags: repo.tags, commits: repo.commits, scale };
  for (const label of ['sweep (first)', 'sweep (again)']) {
    const t = performance.now();
    const m = await sweep(dir, { refs: ['all'] });
    const ms = performance.now() - t;
    const rps = m.rows.length / (ms / 1000);
    console.log(`${label}: ${m.rows.length} refs in ${ms.toFixed(0)} ms = ${rps.toFixed(0)} refs/s; ${m.stats.distinctBlobs} distinct blobs parsed (+ ${m.stats.natBlobs} nf_nat_core.c blobs scanned) for ${m.stats.distinctCommits} commits; ${m.stats.historyCommits} history commits over a ${m.stats.graphCommits}-commit walk; ${m.entered.length} entered, ${m.lost.length} lost`);
    console.log(`  stages (ms): ${Object.entries(m.stats.ms).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    results[label] = { refs: m.rows.length, ms, refsPerSecond: rps, distinctBlobs: m.stats.distinctBlobs, natBlobs: m.stats.natBlobs, stages: m.stats.ms };
  }

  // Naive: every ref on its own, over an evenly spaced sample when the repository is large.
  const refs = (await run('git', ['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/tags'], { cwd: dir })).stdout.trim().split('\n');
  const step = Math.max(1, Math.floor(refs.length / sample));
  const picked = refs.filter((_, i) => i % step === 0).slice(0, sample);
  const t = performance.now();
  let parsed = 0;
  for (const ref of picked) {
    try {
      const { stdout } = await run('git', ['show', `${ref}:net/netfilter/nf_conntrack_core.c`], { cwd: dir, encoding: 'buffer', maxBuffer: 16 << 20 });
      await detectBuffer(stdout as Buffer, 'nf_conntrack_core.c');
      parsed++;
    } catch {
      // absent at this ref: the naive loop pays the git call anyway
    }
  }
  const naiveMs = performance.now() - t;
  const naiveRps = picked.length / (naiveMs / 1000);
  const partial = picked.length < refs.length ? ` (a sample of ${picked.length} of ${refs.length} refs, every ${step}th; extrapolated full run ≈ ${((refs.length / naiveRps)).toFixed(1)} s)` : '';
  console.log(`naive baseline: ${picked.length} refs in ${naiveMs.toFixed(0)} ms = ${naiveRps.toFixed(0)} refs/s, ${parsed} full detections${partial}`);
  const best = results['sweep (again)'] as { refsPerSecond: number };
  console.log(`speed-up: ${(best.refsPerSecond / naiveRps).toFixed(1)}x; target >= 500 refs/s: ${best.refsPerSecond >= 500 ? 'met' : 'NOT met'}`);
  results.naive = { refs: picked.length, of: refs.length, ms: naiveMs, refsPerSecond: naiveRps };
  fs.mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, '../../bench/results/sweep.json'), JSON.stringify(results, null, 2) + '\n');
  if (!process.argv.includes('--keep')) fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

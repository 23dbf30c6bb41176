// One variant of the sweep bench, in its own process (for its peak RSS): first sweep into a
// fresh keep directory, second sweep with nothing moved, then one new tag on a new commit
// (the next stable release) swept incrementally; verdicts checked against the generator.
// Before them, a first sweep on a cold page cache when this process may drop it (root).
// Prints one JSON object. `node out/bench/sweepRun.js <repo> <keep-dir>`

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sweep } from '../src/core/matrix';
import type { Matrix } from '../src/core/matrix';
import type { ScaleRepo } from './sweepRepo';

async function timed(dir: string, keep: string): Promise<{ m: Matrix; ms: number }> {
  const t = performance.now();
  const m = await sweep(dir, { refs: ['all'], keep: { dir: keep } });
  return { m, ms: performance.now() - t };
}

const measured = (x: { m: Matrix; ms: number }): { refs: number; ms: number; refsPerSecond: number; stats: unknown } => ({
  refs: x.m.rows.length,
  ms: x.ms,
  refsPerSecond: x.m.rows.length / (x.ms / 1000),
  stats: x.m.stats,
});

async function main(): Promise<void> {
  const [dir, keep] = process.argv.slice(2);
  const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(dir), 'repo.json'), 'utf8')) as ScaleRepo;
  // Cold: the page cache dropped first (root only; otherwise said so), into a keep directory of
  // its own. Then the warm first sweep, whose keep directory the second and new-tag sweeps use.
  let cold: { m: Matrix; ms: number } | null = null;
  let coldNote = '';
  try {
    execFileSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    const coldKeep = fs.mkdtempSync(path.join(path.dirname(keep), 'ctb-sweep-cold-'));
    try {
      cold = await timed(dir, coldKeep);
    } finally {
      fs.rmSync(coldKeep, { recursive: true, force: true });
    }
  } catch (e) {
    coldNote = `not measured: the page cache could not be dropped (${(e as Error).message.split('\n')[0]})`;
  }
  const first = await timed(dir, keep);
  const second = await timed(dir, keep);
  // The next release of the newest long-term line: a commit on its tip, tagged.
  const git = (...a: string[]): string =>
    execFileSync('git', a, {
      cwd: dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'b',
        GIT_AUTHOR_EMAIL: 'b@example.invalid',
        GIT_COMMITTER_NAME: 'b',
        GIT_COMMITTER_EMAIL: 'b@example.invalid',
      },
    })
      .toString()
      .trim();
  const tip = git('rev-parse', 'refs/heads/linux-6.6.y');
  const tree = git('rev-parse', `${tip}^{tree}`);
  const next = git('commit-tree', tree, '-p', tip, '-m', 'Linux 6.6.bench');
  git('update-ref', 'refs/tags/v6.6.bench', next);
  let newTag: { m: Matrix; ms: number };
  try {
    newTag = await timed(dir, keep);
  } finally {
    git('update-ref', '-d', 'refs/tags/v6.6.bench');
  }
  const wrong: string[] = [];
  let checked = 0;
  for (const r of first.m.rows) {
    const t = meta.truth[r.short];
    if (!t) continue;
    checked++;
    const got = {
      race1: r.race1.verdict,
      race2: r.race2.verdict,
      race3: r.race3.verdict,
      zone: r.zone.present,
      rework: r.rework.present,
      reverse: r.reverse.present,
    };
    const want = { race1: t.race1, race2: t.race2, race3: t.race3, zone: t.zoneFollowup, rework: t.rework2020, reverse: t.reverse2024 };
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${r.short}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  }
  const out = {
    first: measured(first),
    cold: cold ? measured(cold) : null,
    coldNote,
    second: measured(second),
    newTag: measured(newTag),
    nodeMaxRssMB: process.resourceUsage().maxRSS / 1024,
    verdicts: { checked, wrong },
    hints: first.m.hints ?? [],
  };
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

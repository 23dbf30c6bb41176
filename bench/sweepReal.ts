// The sweep over real kernel files: a repository assembled from real kernel trees (git
// snapshots of kernel trees, kept as they are, and directories holding the real netfilter
// files, e.g. the ones the test plan extracts from Debian's linux-source-* packages), then
// swept twice (first, kept) and every row compared with detectPath on the same files written
// out of git (no history: the trees' own histories hold no netfilter commits).
// Nothing here is committed to this repository: the assembled repository lives under /tmp.
// Usage: node out/bench/sweepReal.js [--out DIR] LABEL=SRC ...
//   SRC: a git directory (its HEAD is tagged LABEL and its branches fetched as LABEL/<branch>),
//   or a directory with net/netfilter/nf_conntrack_core.c (committed alone with its neighbours
//   nf_nat_core.c and nfnetlink_queue.c when present, tagged LABEL).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectPath } from '../src/core/detect';
import { sweep } from '../src/core/matrix';
import type { MatrixRow } from '../src/core/matrix';
import type { DetectionResult } from '../src/core/types';

const FILES = ['nf_conntrack_core.c', 'nf_nat_core.c', 'nfnetlink_queue.c'].map((f) => `net/netfilter/${f}`);
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_AUTHOR_DATE: '1700000000 +0000',
  GIT_COMMITTER_DATE: '1700000000 +0000',
};

function assemble(out: string, sources: [string, string][]): void {
  fs.rmSync(out, { recursive: true, force: true });
  const git = (...a: string[]): string =>
    execFileSync('git', a, { cwd: out, env, maxBuffer: 64 << 20 })
      .toString()
      .trim();
  fs.mkdirSync(out, { recursive: true });
  git('init', '-q', '-b', 'scratch');
  for (const [label, src] of sources) {
    let contents: (Buffer | null)[] | null = null;
    if (fs.existsSync(path.join(src, 'HEAD')) || fs.existsSync(path.join(src, '.git'))) {
      try {
        git('fetch', '-q', '--no-tags', src, `+refs/heads/*:refs/heads/${label}/*`);
        const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: src }).toString().trim();
        git('tag', label, head);
        continue;
      } catch {
        // A snapshot without some of its objects cannot be fetched whole: its files at HEAD then.
        contents = FILES.map((f) => {
          try {
            return execFileSync('git', ['show', `HEAD:${f}`], { cwd: src, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
          } catch {
            return null;
          }
        });
        console.log(`${label}: ${src} cannot be fetched whole; its netfilter files at HEAD are committed instead`);
      }
    }
    // A directory of real files: one commit with just the netfilter files, tagged.
    const data = (f: string, i: number): Buffer | null =>
      contents ? contents[i] : fs.existsSync(path.join(src, f)) ? fs.readFileSync(path.join(src, f)) : null;
    const entries = FILES.map((f, i) => ({ f, d: data(f, i) }))
      .filter((x) => x.d)
      .map(({ f, d }) => {
        const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: out, input: d! }).toString().trim();
        return `100644 blob ${blob}\t${path.basename(f)}`;
      });
    if (!entries.length) throw new Error(`${src}: no net/netfilter/nf_conntrack_core.c and not a git directory`);
    const mk = (input: string): string => execFileSync('git', ['mktree'], { cwd: out, input }).toString().trim();
    const nf = mk(entries.join('\n') + '\n');
    const net = mk(`040000 tree ${nf}\tnetfilter\n`);
    const root = mk(`040000 tree ${net}\tnet\n`);
    const c = execFileSync('git', ['commit-tree', root, '-m', `${label}: real netfilter files`], { cwd: out, env })
      .toString()
      .trim();
    git('tag', label, c);
  }
  git('commit-graph', 'write', '--reachable', '--changed-paths');
}

type Cells = Record<string, string>;
const cellsOfRow = (r: MatrixRow): Cells => ({
  race1: r.race1.verdict,
  race2: r.race2.verdict,
  race3: r.race3.verdict,
  race4: r.race4.verdict,
  zone: String(r.zone.present),
  rework: String(r.rework.present),
  reverse: String(r.reverse.present),
});
const cellsOfResult = (d: DetectionResult): Cells => ({
  race1: d.races.race1.verdict,
  race2: d.races.race2.verdict,
  race3: d.races.race3.verdict,
  race4: d.races.race4.verdict,
  zone: String(d.zoneFollowup.present),
  rework: String(d.rework2020.present),
  reverse: String(d.reverse2024.present),
});

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const oi = args.indexOf('--out');
  const out = oi >= 0 ? args.splice(oi, 2)[1] : path.join(os.tmpdir(), 'ctb-sweep-real');
  const sources = args.map((a) => {
    const i = a.indexOf('=');
    if (i <= 0) throw new Error(`expected LABEL=SRC, got ${a}`);
    return [a.slice(0, i), path.resolve(a.slice(i + 1))] as [string, string];
  });
  let t = performance.now();
  assemble(out, sources);
  console.log(`assembled ${out} from ${sources.length} sources in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-sweep-real-keep-'));
  t = performance.now();
  const first = await sweep(out, { refs: ['all'], keep: { dir: keep } });
  const firstMs = performance.now() - t;
  t = performance.now();
  const second = await sweep(out, { refs: ['all'], keep: { dir: keep } });
  const secondMs = performance.now() - t;
  fs.rmSync(keep, { recursive: true, force: true });
  console.log(
    `first sweep: ${first.rows.length} refs in ${firstMs.toFixed(0)} ms = ${((first.rows.length * 1000) / firstMs).toFixed(0)} refs/s (${first.stats.distinctBlobs} distinct blobs); second: ${secondMs.toFixed(0)} ms = ${((second.rows.length * 1000) / secondMs).toFixed(0)} refs/s`,
  );
  let wrong = 0;
  let compared = 0;
  const dump = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-sweep-real-files-'));
  console.log('| ref | status | race1 | race2 | race3 | race4 | zone | rework | reverse | equals detect on the files |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of first.rows) {
    const mine = cellsOfRow(r);
    let same = '-';
    if (r.commit && r.path && (r.status === 'ok' || r.status === 'moved')) {
      const dir = path.join(dump, String(compared));
      const nf = path.join(dir, path.posix.dirname(r.path));
      fs.mkdirSync(nf, { recursive: true });
      for (const f of FILES.map((x) => path.posix.join(path.posix.dirname(r.path!), path.posix.basename(x)))) {
        try {
          fs.writeFileSync(path.join(dir, f), execFileSync('git', ['show', `${r.commit}:${f}`], { cwd: out, maxBuffer: 64 << 20 }));
        } catch {
          // not in this tree
        }
      }
      const direct = cellsOfResult(await detectPath(path.join(dir, r.path), { history: false }));
      compared++;
      const diff = Object.keys(direct).filter((k) => direct[k] !== mine[k]);
      if (diff.length) wrong++;
      same = diff.length ? `no: ${diff.map((k) => `${k} ${mine[k]} vs ${direct[k]}`).join(', ')}` : 'yes';
    }
    console.log(`| ${r.short} | ${r.status} | ${Object.values(mine).join(' | ')} | ${same} |`);
  }
  fs.rmSync(dump, { recursive: true, force: true });
  console.log(`\n${compared} refs compared with detectPath on their files: ${wrong} differ`);
  if (wrong) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

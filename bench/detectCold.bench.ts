// Cold-start benchmark: a new `detect` process on the largest real nf_conntrack_core.c we have
// (Debian linux-source-6.12, extracted to ~/.cache, never into the repository), beside bare
// node startup (`node -e 0`) measured in the same run, interleaved run by run so that load on
// the machine hits both alike. Also timed, as references: the same launcher without its V8
// code cache, the same with V8's default wasm tier-up (the launcher runs `detect` on the baseline
// compiler alone), and the full CLI bundle (what every command loaded before the detect-only entry).
// Then a few CPU profiles of the detect process say where its time goes.
//
//   npm run bench:detect-cold            (target: detect median < 3x node -e 0)
//   RUNS=30 npm run bench:detect-cold    (more runs; default 21)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debianTree } from '../test/unit/helpers/debian';

const ROOT = path.join(__dirname, '../..');
const DIST = path.join(ROOT, 'dist');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function timeRun(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const dt = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${String(r.stderr).trim()}`);
  return dt;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time per bucket over the samples of a --cpu-prof profile. */
function buckets(file: string, into: Map<string, number>): number {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let total = 0;
  p.samples.forEach((id, i) => {
    const d = (p.timeDeltas[i] ?? 0) / 1000;
    total += d;
    const f = byId.get(id)!.callFrame;
    const url = f.url.replace(/^file:\/\//, '');
    let key: string;
    if (f.functionName === '(idle)') key = 'idle (waiting: file reads, wasm compile threads, child exit)';
    else if (f.functionName === '(garbage collector)') key = 'garbage collector';
    else if (f.functionName === '(program)') key = 'V8 outside JS (compiling, bootstrap)';
    else if (url.startsWith('wasm://') || f.functionName.startsWith('wasm-function') || /JSToWasm|WasmToJS/.test(f.functionName))
      key = 'tree-sitter (wasm: lazy compile + parse)';
    else if (url.includes('cli-detect.js')) key = `detect bundle: ${f.functionName || '(top level)'}`;
    else if (url === '' || url.startsWith('node:')) key = 'node internals (bootstrap, module loader, fs, streams)';
    else key = path.basename(url);
    into.set(key, (into.get(key) ?? 0) + d);
  });
  return total;
}

function main(): void {
  const runs = Number(process.env.RUNS ?? 21);
  const tree = debianTree('6.12');
  const file = path.join(tree, 'net/netfilter/nf_conntrack_core.c');
  const lines = fs.readFileSync(file, 'utf8').split('\n').length;
  const cli = path.join(DIST, 'cli.js');
  const full = path.join(DIST, 'cli-main.js');
  const noCache = { ...process.env, CONNTRACK_BACKPORT_CODE_CACHE: '0' };
  const tierUp = { ...process.env, CONNTRACK_BACKPORT_WASM_TIERUP: '1' };
  const load0 = os.loadavg();

  // Warm the OS file cache and write the V8 code cache once.
  for (let i = 0; i < 2; i++) timeRun([cli, 'detect', file]);
  const detect: number[] = [];
  const bare: number[] = [];
  const uncached: number[] = [];
  const fullCli: number[] = [];
  const tiered: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(timeRun(['-e', '0']));
    detect.push(timeRun([cli, 'detect', file]));
    uncached.push(timeRun([cli, 'detect', file], noCache));
    fullCli.push(timeRun([full, 'detect', file], noCache));
    tiered.push(timeRun([cli, 'detect', file], tierUp));
  }
  const load1 = os.loadavg();

  // Where the time goes: self time per bucket, summed over a few profiled runs.
  const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-coldprof-'));
  const profiled = 5;
  for (let i = 0; i < profiled; i++)
    spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', profDir, cli, 'detect', file], {
      stdio: 'ignore',
    });
  const by = new Map<string, number>();
  let profTotal = 0;
  for (const f of fs.readdirSync(profDir)) profTotal += buckets(path.join(profDir, f), by);
  fs.rmSync(profDir, { recursive: true, force: true });

  const d = median(detect);
  const n = median(bare);
  console.log(`cold-start benchmark: \`conntrack-backport detect <file>\` (text output, history probe on), ${runs} runs each, interleaved`);
  console.log(
    `file: Debian linux-source-6.12 net/netfilter/nf_conntrack_core.c (${lines} lines; nf_nat_core.c and nfnetlink_queue.c beside it are read too)`,
  );
  console.log(
    `machine: ${os.cpus().length} CPUs, load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after (shared machine: medians, not means)`,
  );
  console.log('');
  console.log('                                              median      min       ratio to node -e 0');
  const row = (label: string, xs: number[]): void =>
    console.log(`${label.padEnd(46)}${ms(median(xs)).padEnd(12)}${ms(Math.min(...xs)).padEnd(10)}${(median(xs) / n).toFixed(2)}x`);
  row('node -e 0 (baseline)', bare);
  row('detect: dist/cli.js (detect bundle, code cache)', detect);
  row('  same, without the V8 code cache', uncached);
  row('  same, wasm tiered up to TurboFan (V8 default)', tiered);
  row('  the full CLI bundle, no code cache, tier-up', fullCli);
  console.log('');
  console.log(`ratio detect / node -e 0: ${(d / n).toFixed(2)}x   target < 3x: ${d / n < 3 ? 'met' : 'NOT met'}`);
  console.log('');
  console.log(
    `where a detect process spends its time (CPU profile, self time, mean of ${profiled} runs, ${ms(profTotal / profiled)} profiled):`,
  );
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 16)) console.log(`  ${ms(v / profiled).padStart(9)}  ${k}`);
}

main();

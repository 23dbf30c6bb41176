// Model vs the running kernel, side by side (npm run bench:kernel; root, netns). For every
// scenario of src/core/model/validation.ts: race.sh runs it in network namespaces, the model runs
// the paired scenario with the committed (globally fitted) timing knobs, and one table prints
// clashes per round, P(drop | clash), the share of raced rounds answered by two backends, lost
// answers and counters per round. `--fit` also refits the two timing knobs on this run's snat and
// dnat1-snat measurements (bisection) and prints the values; it never changes the defaults.
//   node out/bench/kernel.bench.js [--rounds N] [--only id,id] [--fit] [--variant V]

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { monteCarloScenario, type McResult } from '../src/core/model/montecarlo';
import { getScenario, type ScenarioKnobs } from '../src/core/model/scenarios';
import { KERNEL_SCENARIOS, kernelRatios, parseRaceOutput, type KernelRun, type KernelScenario } from '../src/core/model/validation';
import { isModelVariantId, type ModelVariantId } from '../src/core/model/variants';

const argv = process.argv.slice(2);
const opt = (k: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(opt('rounds') ?? 4000);
const only = opt('only')?.split(',');
const here = path.resolve(__dirname, '../../bench/kernel');

function kernelVariant(release: string): ModelVariantId | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return undefined;
  const v = Number(m[1]) * 100 + Number(m[2]);
  if (v >= 613) return 'reverse2024';
  if (v >= 506) return 'rework2020';
  return undefined; // older kernels: which fixes a distribution kernel carries needs detection
}

function runKernel(s: KernelScenario, n: number): KernelRun {
  const out = execFileSync('bash', [path.join(here, 'race.sh'), s.client, s.dst, String(s.port), String(n)], {
    input: s.router.join('\n') + '\n',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  return parseRaceOutput(out);
}

interface ModelRatios {
  clashPerRound: number;
  dropGivenClash: number;
  twoBackendsShare: number;
  missingPerRound: number;
  perRound: Record<string, number>;
}

function runModel(s: KernelScenario, variant: ModelVariantId, extra: Partial<ScenarioKnobs> = {}, trials = 100_000): ModelRatios {
  const r: McResult = monteCarloScenario(s.model.scenario, variant, {
    trials,
    seed: 7,
    overrides: { ...s.model.set, attempts: 1, ...extra },
  });
  const perRound: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.counters)) perRound[k] = v / r.races;
  return {
    clashPerRound: r.racedRounds / r.races,
    dropGivenClash: r.dropGivenClash,
    twoBackendsShare: r.twoBackendsShare,
    missingPerRound: r.dropped / r.races,
    perRound,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const cell = (k: number, m: number) => `${pct(k)} / ${pct(m)}`.padEnd(19);

/** Bisection of one knob so that the model's clashes per round meet the kernel's. */
function fit(
  s: KernelScenario,
  variant: ModelVariantId,
  target: number,
  knob: 'skewUs' | 'dnatCost',
  lo: number,
  hi: number,
  base: Partial<ScenarioKnobs>,
): number {
  // clashes per round fall as the skew grows, and rise with the DNAT step cost.
  const falls = knob === 'skewUs';
  for (let i = 0; i < 16; i++) {
    const mid = (lo + hi) / 2;
    const c = runModel(s, variant, { ...base, [knob]: mid }, 40_000).clashPerRound;
    if (c > target === falls) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function main(): void {
  const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  const vArg = opt('variant');
  const variant = vArg && isModelVariantId(vArg) ? vArg : kernelVariant(release);
  if (!variant) {
    console.error(`kernel ${release}: no model variant known for it; pass --variant NAME`);
    process.exit(2);
  }
  const knobs = getScenario('dns-snat').knobs;
  console.log(
    `kernel ${release}, ${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPUs; model variant ${variant}; ${rounds} rounds per scenario`,
  );
  console.log(
    `model timing knobs (committed, fitted once): skewUs=${knobs.skewUs} stepCostUs=${knobs.stepCostUs} dnatCost=${knobs.dnatCost}`,
  );
  console.log('each cell: kernel / model');
  console.log(
    `${'scenario'.padEnd(46)} ${'clashes/round'.padEnd(19)} ${'P(drop|clash)'.padEnd(19)} ${'two backends'.padEnd(19)} ${'lost/round'.padEnd(19)} counters per round (kernel | model)`,
  );
  const runs = new Map<string, KernelRun>();
  for (const s of KERNEL_SCENARIOS) {
    if (only && !only.includes(s.id)) continue;
    const n = s.client === 'udp2' || s.client === 'tcp2' ? rounds * 3 : rounds;
    const k = runKernel(s, n);
    runs.set(s.id, k);
    const kr = kernelRatios(k);
    const m = runModel(s, variant);
    const ks = ['clash_resolve', 'insert_failed', 'drop', 'found'] as const;
    const kc = ks.map((c) => `${c}=${((k.counters[c] ?? 0) / k.rounds).toFixed(4)}`).join(' ');
    const mc = ks.map((c) => `${c}=${(m.perRound[c] ?? 0).toFixed(4)}`).join(' ');
    console.log(
      `${`${s.id}: ${s.title}`.padEnd(46)} ${cell(kr.clashPerRound, m.clashPerRound)} ${cell(kr.dropGivenClash, m.dropGivenClash)} ${cell(kr.twoBackendsShare, m.twoBackendsShare)} ${cell(kr.missingPerRound, m.missingPerRound)} ${kc} | ${mc}`,
    );
  }
  if (argv.includes('--fit')) {
    const snat = KERNEL_SCENARIOS.find((s) => s.id === 'snat')!;
    const d1 = KERNEL_SCENARIOS.find((s) => s.id === 'dnat1-snat')!;
    const ks = runs.get('snat') ?? runKernel(snat, rounds);
    const kd = runs.get('dnat1-snat') ?? runKernel(d1, rounds);
    const skew = fit(snat, variant, kernelRatios(ks).clashPerRound, 'skewUs', 0.5, 2000, {});
    const dn = fit(d1, variant, kernelRatios(kd).clashPerRound, 'dnatCost', 0, 20, { skewUs: skew });
    console.log(
      `fit on this run: skewUs=${skew.toFixed(2)} (snat clashes/round ${pct(kernelRatios(ks).clashPerRound)}), dnatCost=${dn.toFixed(3)} (dnat1-snat ${pct(kernelRatios(kd).clashPerRound)})`,
    );
  }
}

main();

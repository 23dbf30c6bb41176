// Model vs the running kernel, side by side (npm run bench:kernel; root, netns): a thin caller
// of the test plan's probe (src/core/testplan/probe.ts, the one racing implementation). Every
// scenario of src/core/model/validation.ts becomes a probe configuration (its rules in the
// probe's topology), the probe races it on the running kernel with the model (the committed,
// globally fitted timing knobs) beside it, and one table prints per scenario a kernel row, a
// model row and their difference: clashes, merged / clash-inserted, drops, P(drop | clash), the
// two-backend share, lost replies and counters, all per trial. A scenario the running kernel
// cannot run (a rule it refuses, a missing match) is listed with the reason.
// `--fit` also refits the two timing knobs on this run's snat and dnat1-snat (printed only).
//   npm run bench:kernel -- [--rounds N] [--only id,id] [--variant V] [--model-trials N] [--fit] [--json FILE]

import * as fs from 'node:fs';
import * as os from 'node:os';
import { monteCarloScenario } from '../src/core/model/montecarlo';
import { getScenario, type ScenarioKnobs } from '../src/core/model/scenarios';
import { KERNEL_SCENARIOS } from '../src/core/model/validation';
import { isModelVariantId, type ModelVariantId } from '../src/core/model/variants';
import { formatSideBySide, kernelScenarioConfig, probeRefusal, runProbe, type ConfigResult, type TestConfig } from '../src/core/testplan';

const argv = process.argv.slice(2);
const opt = (k: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(opt('rounds') ?? 4000);
const modelTrials = Number(opt('model-trials') ?? 100_000);
const only = opt('only')?.split(',');

/**
 * `--fit`: the two timing knobs refitted on this run (bisection of the model's clashes per trial
 * onto the kernel's): skewUs on snat, then dnatCost on dnat1-snat. Printed, never committed.
 */
function fit(results: ConfigResult[], variant: ModelVariantId): void {
  const perTrial = (id: string) => {
    const c = results.find((x) => x.config === id);
    return c?.counters && c.replies?.trials ? c.counters.clashes / c.replies.trials : null;
  };
  const model = (id: string, set: Partial<ScenarioKnobs>) => {
    const s = KERNEL_SCENARIOS.find((x) => x.id === id)!;
    const r = monteCarloScenario(s.model.scenario, variant, {
      trials: 40_000,
      seed: 7,
      overrides: { ...s.model.set, attempts: 1, ...set },
    });
    return (r.counters.clash_resolve + r.counters.insert_failed) / r.trials;
  };
  const bisect = (id: string, knob: 'skewUs' | 'dnatCost', lo: number, hi: number, base: Partial<ScenarioKnobs>, target: number) => {
    // Clashes fall as the skew grows and rise with the DNAT step's cost.
    for (let i = 0; i < 16; i++) {
      const mid = (lo + hi) / 2;
      if (model(id, { ...base, [knob]: mid }) > target === (knob === 'skewUs')) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  const ks = perTrial('snat');
  const kd = perTrial('dnat1-snat');
  if (ks === null || kd === null) return console.log('fit: needs snat and dnat1-snat measured in this run');
  const skew = bisect('snat', 'skewUs', 0.5, 2000, {}, ks);
  const dn = bisect('dnat1-snat', 'dnatCost', 0, 20, { skewUs: skew }, kd);
  console.log(
    `fit on this run: skewUs=${skew.toFixed(2)} (snat ${ks.toFixed(4)} clashes/trial), dnatCost=${dn.toFixed(3)} (dnat1-snat ${kd.toFixed(4)})`,
  );
}

async function main(): Promise<void> {
  const refusal = probeRefusal();
  if (refusal) {
    console.error(`bench:kernel: ${refusal}`);
    process.exit(2);
  }
  const vArg = opt('variant');
  if (vArg && !isModelVariantId(vArg)) {
    console.error(`bench:kernel: unknown variant "${vArg}"`);
    process.exit(2);
  }
  const configs: TestConfig[] = [];
  const cannot: string[] = [];
  for (const s of KERNEL_SCENARIOS) {
    if (only && !only.includes(s.id)) continue;
    const m = kernelScenarioConfig(s);
    if ('why' in m) cannot.push(`${s.id}: the probe cannot express it: ${m.why}`);
    else configs.push(m.config);
  }
  const knobs = getScenario('dns-snat').knobs;
  const t0 = Date.now();
  const load0 = os.loadavg();
  // Ctrl-C: stop the reproducers' process groups and remove the namespaces before exiting.
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const r = await runProbe({
    signal: stop.signal,
    configs,
    trials: rounds,
    // The different-flow races clash more rarely per trial: three times the trials, as before.
    trialsFor: (c) => (c.mode === 'udp2' || c.mode === 'tcp2' ? rounds * 3 : undefined),
    modelTrials,
    replyTimeoutMs: Number(opt('timeout') ?? 10),
    maxSecondsPerConfig: 300,
    variant: vArg && isModelVariantId(vArg) ? vArg : undefined,
    progress: (m) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`),
  });
  console.log(
    `kernel ${r.kernel}, ${os.cpus().length} CPUs, load ${load0.map((x) => x.toFixed(1)).join(' ')} at the start; model variant ${r.variant.id} (from the ${r.variant.from}); ${rounds} trials per scenario (x3 for udp2/tcp2), model ${modelTrials} trials, one attempt each`,
  );
  console.log(
    `counters: ${r.forensics.proc.present ? '/proc/net/stat/nf_conntrack' : `no proc file (${r.forensics.proc.why})`}, era ${r.forensics.era}; model timing knobs (committed, fitted once): skewUs=${knobs.skewUs} stepCostUs=${knobs.stepCostUs} dnatCost=${knobs.dnatCost}`,
  );
  console.log('per trial; diff = kernel - model; P(d|c) = drops / clashes; 2-backend = two endpoints answered / clashes');
  for (const l of formatSideBySide(r.configs)) console.log(l);
  for (const c of cannot) console.log(c);
  for (const c of r.configs) for (const n of c.notes) console.log(`  ${c.config}: ${n}`);
  console.log(
    `${((Date.now() - t0) / 1000).toFixed(0)} s; load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end (the machine is shared)`,
  );
  if (argv.includes('--fit')) fit(r.configs, r.variant.id);
  const json = opt('json');
  if (json) fs.writeFileSync(json, JSON.stringify(r, null, 2));
}

main().catch((e) => {
  console.error(`bench:kernel: ${(e as Error).message}`);
  process.exit(1);
});

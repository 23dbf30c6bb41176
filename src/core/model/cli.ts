// CLI entry of `simulate`: runs one scenario against one variant with either engine and
// renders text (kernel counter names, `conntrack -S`-style rows) and a JSON object.

import { exploreScenario, type ExhaustiveResult } from './exhaustive';
import { monteCarloScenario, type McResult } from './montecarlo';
import { runOverflow, type OverflowResult } from './overflow';
import { getScenario, type ScenarioKnobs } from './scenarios';
import { COUNTER_NAMES, type CounterName } from './state';
import { isModelVariantId, variantInfo, MODEL_VARIANT_IDS, type ModelVariantId } from './variants';

export interface SimulateArgs {
  scenario: string;
  variant: string;
  exhaustive?: boolean;
  trials?: number;
  seed?: number;
  json?: boolean;
  overrides?: Partial<ScenarioKnobs>;
}

export interface SimulateOutput { text: string; json: object }

const pct = (x: number) => `${(x * 100).toFixed(3)} %`;

function statsRows(rows: Record<CounterName, number>[]): string {
  return rows.map((r, i) => `cpu=${i}\t${COUNTER_NAMES.map((n) => `${n}=${r[n]}`).join(' ')}`).join('\n');
}

export function runSimulateCommand(args: SimulateArgs): SimulateOutput {
  const preset = getScenario(args.scenario);
  if (!isModelVariantId(args.variant)) throw new Error(`unknown variant "${args.variant}" (known: ${MODEL_VARIANT_IDS.join(', ')})`);
  const variant: ModelVariantId = args.variant;
  const info = variantInfo(variant);
  const head = [`scenario: ${preset.title} (${preset.name})`, `variant:  ${info.label}`, ...(info.hypothesis ? [`note:     ${info.hypothesis}`] : [])];
  const seed = args.seed ?? 1;
  if (args.exhaustive) {
    const r: ExhaustiveResult = exploreScenario(preset.name, variant, { overrides: args.overrides });
    const lines = [
      ...head,
      `engine:   exhaustive, ${r.packets} packets, ${r.states} distinct states, ${r.ms.toFixed(1)} ms`,
      `schedules: ${r.schedules}, dropping: ${r.dropSchedules} (random-scheduler probability ${pct(r.dropProbability)})`,
      `causes:   ${Object.entries(r.causes).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`,
      `counters (summed over schedules): ${COUNTER_NAMES.filter((n) => r.counters[n]).map((n) => `${n}=${r.counters[n]}`).join(' ') || 'all 0'}`,
      'outcomes:',
      ...Object.entries(r.outcomes).map(([k, v]) => `  ${v}\t${k}`),
      ...r.traces.flatMap((t, i) => [
        `drop trace ${i + 1}: ${t.schedule}  => ${t.outcome}`,
        ...t.events.map((e) => `  CPU${e.cpu} P${e.packet} ${e.step.padEnd(9)} ${e.decisive ? '*' : ' '} ${e.fn}: ${e.note}`),
      ]),
    ];
    return { text: lines.join('\n'), json: { engine: 'exhaustive', label: info.label, hypothesis: info.hypothesis, ...r } };
  }
  const trials = args.trials ?? (preset.kind === 'overflow' ? 1 : 100000);
  if (preset.kind === 'overflow') {
    const r: OverflowResult = runOverflow(variant, { seed, overrides: args.overrides });
    const lines = [
      ...head,
      `engine:   timed Monte Carlo, seed ${seed}, ${r.flows} flows at ${preset.knobs.flowRate}/s, nf_conntrack_max=${r.max}`,
      `dropped (table full): ${r.dropped} = ${pct(r.dropRate)} [${pct(r.dropCi[0])}, ${pct(r.dropCi[1])}] (udp ${r.droppedUdp}, tcp ${r.droppedTcp})`,
      `early_drop: ${r.earlyDrops}, table full ${pct(r.fullFraction)} of the time, peak ${r.peak}`,
    ];
    return { text: lines.join('\n'), json: { engine: 'overflow', scenario: preset.name, variant, label: info.label, seed, ...r } };
  }
  const r: McResult = monteCarloScenario(preset.name, variant, { trials, seed, overrides: args.overrides });
  const L = r.latency;
  const lines = [
    ...head,
    `engine:   Monte Carlo, seed ${seed}, ${r.trials} trials (${r.races} races), ${Math.round(r.trialsPerSec)} trials/s`,
    `packets dropped: ${r.dropped}/${r.packets} = ${pct(r.dropRate)} [95 % CI ${pct(r.dropCi[0])}, ${pct(r.dropCi[1])}]`,
    `causes:   ${Object.entries(r.causes).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`,
    `${L.unit}s delayed: ${L.delayed}/${L.samples} = ${pct(L.delayedRate)}, failed ${L.failed}; latency mean ${L.meanS.toFixed(3)} s, p50 ${L.p50S} s, p99 ${L.p99S} s`,
    'conntrack -S (model):',
    statsRows(r.perCpu),
  ];
  return { text: lines.join('\n'), json: { engine: 'montecarlo', label: info.label, hypothesis: info.hypothesis, ...r } };
}

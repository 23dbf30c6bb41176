// CLI entry of `simulate`: runs one scenario against one variant with either engine and
// renders text (kernel counter names, `conntrack -S`-style rows) and a JSON object.

import { exploreScenario, type ExhaustiveResult } from './exhaustive';
import { monteCarloScenario, type McResult } from './montecarlo';
import { runOverflow, type OverflowResult } from './overflow';
import { getScenario, type ScenarioKnobs } from './scenarios';
import type { TableKnobs } from './knobs';
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
  /** Overflow timed run: table size, buckets and pre-filled entries. */
  table?: TableKnobs;
  /** A Monte Carlo result computed already (the CLI's parallel run over all cores). */
  mc?: McResult & { threads?: number };
}

export interface SimulateOutput {
  text: string;
  json: object;
}

const pct = (x: number) => `${(x * 100).toFixed(3)} %`;

function statsRows(rows: Record<CounterName, number>[]): string {
  return rows.map((r, i) => `cpu=${i}\t${COUNTER_NAMES.map((n) => `${n}=${r[n]}`).join(' ')}`).join('\n');
}

export function runSimulateCommand(args: SimulateArgs): SimulateOutput {
  const preset = getScenario(args.scenario);
  if (!isModelVariantId(args.variant)) throw new Error(`unknown variant "${args.variant}" (known: ${MODEL_VARIANT_IDS.join(', ')})`);
  const variant: ModelVariantId = args.variant;
  const info = variantInfo(variant);
  const head = [
    `scenario: ${preset.title} (${preset.name})`,
    ...preset.rules.map((r) => `rule:     ${r}`),
    `variant:  ${info.label}`,
    ...(info.hypothesis ? [`note:     ${info.hypothesis}`] : []),
    ...(args.overrides && Object.keys(args.overrides).length
      ? [
          `set:      ${Object.entries(args.overrides)
            .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
            .join(' ')}`,
        ]
      : []),
  ];
  const seed = args.seed ?? 1;
  if (args.exhaustive) {
    const r: ExhaustiveResult = exploreScenario(preset.name, variant, { overrides: args.overrides });
    const lines = [
      ...head,
      `engine:   exhaustive, ${r.packets} packets, ${r.states} distinct states, ${r.ms.toFixed(1)} ms`,
      `schedules: ${r.schedules}, dropping: ${r.dropSchedules} (random-scheduler probability ${pct(r.dropProbability)})`,
      `clash:    P(clash) ${pct(r.clashProbability)}, P(drop | clash) ${pct(r.dropGivenClash)}${r.twoBackendsProbability ? `, answered by two backends ${pct(r.twoBackendsProbability)}` : ''}`,
      `causes:   ${
        Object.entries(r.causes)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || 'none'
      }`,
      `counters (summed over schedules): ${
        COUNTER_NAMES.filter((n) => r.counters[n])
          .map((n) => `${n}=${r.counters[n]}`)
          .join(' ') || 'all 0'
      }`,
      'outcomes:',
      ...Object.entries(r.outcomes).map(([k, v]) => `  ${v}\t${k}`),
      ...r.traces.flatMap((t, i) => [
        `drop trace ${i + 1}: ${t.schedule}  => ${t.outcome}`,
        ...t.events.map((e) => `  CPU${e.cpu} P${e.packet} ${e.step.padEnd(9)} ${e.decisive ? '*' : ' '} ${e.fn}: ${e.note}`),
      ]),
    ];
    return {
      text: lines.join('\n'),
      json: { engine: 'exhaustive', rules: preset.rules, set: args.overrides ?? {}, label: info.label, hypothesis: info.hypothesis, ...r },
    };
  }
  const trials = args.trials ?? (preset.kind === 'overflow' ? 1 : 100000);
  if (preset.kind === 'overflow') {
    const t = args.table ?? {};
    const r: OverflowResult = runOverflow(variant, {
      seed,
      overrides: args.overrides,
      max: t.max,
      buckets: t.buckets,
      prefill: { assured: t.assured ?? 0, nonAssured: t.nonAssured ?? 0 },
    });
    const rate = args.overrides?.flowRate ?? preset.knobs.flowRate;
    const lines = [
      ...head,
      `engine:   timed Monte Carlo, seed ${seed}, ${r.flows} flows at ${rate}/s, nf_conntrack_max=${r.max}, ${r.buckets} buckets, early drop era ${r.earlyDropEra}`,
      `flows:    admitted ${r.admitted}, answered ${r.answered}, evicted before the reply ${r.evicted}`,
      `dropped (table full): ${r.dropped} = ${pct(r.dropRate)} [${pct(r.dropCi[0])}, ${pct(r.dropCi[1])}] (udp ${r.droppedUdp}, tcp ${r.droppedTcp})`,
      `early_drop: ${r.earlyDrops}${r.gcKilled ? `, gc worker kills ${r.gcKilled}` : ''}, table full ${pct(r.fullFraction)} of the time, peak ${r.peak}`,
    ];
    return {
      text: lines.join('\n'),
      json: {
        engine: 'overflow',
        scenario: preset.name,
        variant,
        rules: preset.rules,
        set: { ...args.overrides, table: args.table ?? {} },
        label: info.label,
        seed,
        ...r,
        early_drop: r.counters.early_drop,
      },
    };
  }
  const r: McResult & { threads?: number } =
    args.mc ?? monteCarloScenario(preset.name, variant, { trials, seed, overrides: args.overrides });
  const L = r.latency;
  const lines = [
    ...head,
    `engine:   Monte Carlo, seed ${seed}, ${r.trials} trials (${r.races} races), ${Math.round(r.trialsPerSec)} trials/s${r.threads ? ` on ${r.threads} thread(s)` : ''}`,
    `packets dropped: ${r.dropped}/${r.packets} = ${pct(r.dropRate)} [95 % CI ${pct(r.dropCi[0])}, ${pct(r.dropCi[1])}]`,
    `causes:   ${
      Object.entries(r.causes)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'none'
    }`,
    `clashes:  ${r.clashes} (merged ${r.merged}, clash-inserted NAT_CLASH ${r.clashInserted}, dropped ${r.droppedAtConfirm}); P(drop | clash) ${pct(r.dropGivenClash)}` +
      (r.twoBackends || preset.knobs.endpoints > 1
        ? `; raced rounds answered by two backends ${r.twoBackends}/${r.racedRounds} = ${pct(r.twoBackendsShare)}`
        : ''),
    `${L.unit}s delayed: ${L.delayed}/${L.samples} = ${pct(L.delayedRate)}, failed ${L.failed}; latency mean ${L.meanS.toFixed(3)} s, p50 ${L.p50S} s, p99 ${L.p99S} s`,
    'conntrack -S (model):',
    statsRows(r.perCpu),
  ];
  return {
    text: lines.join('\n'),
    json: { engine: 'montecarlo', rules: preset.rules, set: args.overrides ?? {}, label: info.label, hypothesis: info.hypothesis, ...r },
  };
}

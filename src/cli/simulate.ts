// `simulate`: run the bundled conntrack model for one scenario against one variant (or the
// variant detected in a tree).

import { detectPath } from '../core/detect';
import { Command, EXIT, flag, Io, list, num, str, UsageError } from './command';

export const simulate: Command = {
  name: 'simulate',
  summary: 'Run the bundled conntrack model (scenarios: dns-snat, dns-vip, tcp-masquerade, table-overflow, ...).',
  synopsis: [
    '--scenario NAME --variant <NAME | from-tree> [--set KNOB=VALUE ...] [--exhaustive] [--trials N] [--seed S] [--json] [<kernel-tree> with from-tree]',
    '--knobs   (list every knob --set accepts, with its range)',
  ],
  options: {
    scenario: { type: 'string', value: 'NAME', help: 'the scenario to run' },
    variant: { type: 'string', value: 'NAME', help: 'a model variant, or from-tree to take it from the tree given after the options' },
    exhaustive: { type: 'boolean', help: 'explore every interleaving instead of Monte Carlo trials' },
    trials: { type: 'string', value: 'N', help: 'Monte Carlo trials' },
    seed: { type: 'string', value: 'S', help: 'random seed (runs are reproducible per seed)' },
    json: { type: 'boolean', help: 'as JSON' },
    set: {
      type: 'string',
      multiple: true,
      value: 'KNOB=VALUE',
      help: 'change one scenario knob (repeatable; see --knobs), e.g. --set portMode=random-fully --set endpoints=3',
    },
    knobs: { type: 'boolean', help: 'list the knobs --set accepts and exit' },
    threads: {
      type: 'string',
      value: 'N',
      help: 'Monte Carlo worker threads (default: every core; 1: this thread). Results do not depend on it',
    },
    workarounds: {
      type: 'boolean',
      help: '"can I drop my workaround?": lookups delayed by a timeout for this variant and after the backport, with and without each mitigation',
    },
    after: {
      type: 'string',
      value: 'NAME',
      help: 'with --workarounds: the variant after the backport (default: both upstream fixes, or the variant itself for rework trees)',
    },
    'no-history': { type: 'boolean', help: 'with from-tree: source layer only' },
  },
  positionals: { min: 0, max: 1, names: 'a kernel tree (with --variant from-tree)' },
  conflicts: [
    ['exhaustive', 'trials'],
    ['exhaustive', 'seed'],
  ],
  async run(a, io: Io) {
    const {
      runSimulateCommand,
      modelVariantFromDetection,
      SCENARIO_NAMES,
      SCENARIOS,
      parseKnobSettings,
      knobHelp,
      mitigationTable,
      renderMitigationTable,
      backportTarget,
      isModelVariantId,
      MODEL_VARIANT_IDS,
    } = await import('../core/model');
    if (flag(a, 'knobs')) {
      io.out(knobHelp().join('\n'));
      return 0;
    }
    const scenario = str(a, 'scenario');
    let variant = str(a, 'variant');
    if (!scenario) throw new UsageError(`simulate needs --scenario (one of ${SCENARIO_NAMES.join(', ')})`);
    if (!variant) throw new UsageError('simulate needs --variant NAME or --variant from-tree PATH');
    const preset = SCENARIOS.find((p) => p.name === scenario);
    if (!preset) throw new UsageError(`unknown scenario "${scenario}" (known: ${SCENARIO_NAMES.join(', ')})`);
    const settings = parseKnobSettings(list(a, 'set'), preset);
    if (settings.errors.length) throw new UsageError(settings.errors.join('\n'));
    const caveats: string[] = [];
    if (variant === 'from-tree') {
      const tree = a.positionals[0];
      if (!tree) throw new UsageError('--variant from-tree needs a kernel tree or file after it');
      const d = await detectPath(tree, { history: !flag(a, 'no-history') });
      if (!d.kernelFile) {
        io.err(`conntrack-backport simulate: ${d.file}: not analysable: ${d.reason ?? 'not nf_conntrack_core.c'}`);
        return EXIT.input;
      }
      const m = modelVariantFromDetection(d);
      variant = m.variant;
      caveats.push(`variant ${m.variant} detected from ${tree}`, ...m.caveats);
    } else if (a.positionals.length)
      throw new UsageError(`a tree argument is only read with --variant from-tree (got '${a.positionals[0]}')`);
    if (flag(a, 'workarounds')) {
      if (preset.kind !== 'race') throw new UsageError(`--workarounds needs a DNS race scenario, not ${scenario}`);
      if (!isModelVariantId(variant)) throw new UsageError(`unknown variant "${variant}" (known: ${MODEL_VARIANT_IDS.join(', ')})`);
      const after = str(a, 'after') ?? backportTarget(variant);
      if (!isModelVariantId(after)) throw new UsageError(`unknown --after variant "${after}" (known: ${MODEL_VARIANT_IDS.join(', ')})`);
      const t = mitigationTable(scenario, variant, after, settings.overrides, num(a, 'trials') ?? 50_000, num(a, 'seed') ?? 1);
      if (flag(a, 'json')) io.out(JSON.stringify({ ...t, caveats }, null, 2));
      else io.out([...caveats.map((c) => `note:     ${c}`), renderMitigationTable(t)].join('\n'));
      return 0;
    }
    let r;
    try {
      const exhaustive = flag(a, 'exhaustive');
      let mc;
      if (!exhaustive && preset.kind === 'race' && isModelVariantId(variant)) {
        const { monteCarloParallel } = await import('../core/model/pool');
        mc = await monteCarloParallel(scenario, variant, {
          trials: num(a, 'trials') ?? 100_000,
          seed: num(a, 'seed') ?? 1,
          overrides: settings.overrides,
          threads: num(a, 'threads'),
        });
      }
      r = runSimulateCommand({
        mc,
        scenario,
        variant,
        exhaustive: flag(a, 'exhaustive'),
        trials: num(a, 'trials'),
        seed: num(a, 'seed'),
        json: flag(a, 'json'),
        overrides: settings.overrides,
        table: settings.table,
      });
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError((e as Error).message);
    }
    if (flag(a, 'json')) io.out(JSON.stringify({ ...r.json, caveats }, null, 2));
    else io.out([...caveats.map((c) => `note:     ${c}`), r.text].join('\n'));
    return 0;
  },
};

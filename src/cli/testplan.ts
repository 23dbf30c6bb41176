// `testplan`: build the tree out of place (and, with --after-plan, the tree as the backport plan
// would leave it), boot each kernel in a VM, race the configurations and print the measured
// figures beside the model's prediction.

import { Command, EXIT, flag, InputError, list, num, str, UsageError } from './command';

export const testplan: Command = {
  name: 'testplan',
  summary:
    'Prove the backport on this kernel tree: build it out of place, boot it in a VM, race UDP through NAT, counters beside the model.',
  synopsis: ['[--json|--markdown] <kernel-tree> [--after-plan [--remote R] [--patch FILE]...] [--configs a,b] [--trials N] [--ref REF]'],
  options: {
    json: { type: 'boolean', help: 'the whole result as JSON' },
    markdown: { type: 'boolean', help: "the cover letter's [Test Plan] body (commands and table)" },
    'after-plan': {
      type: 'boolean',
      help: 'also build and race the tree as the backport plan leaves it (applied in a throw-away repository)',
    },
    remote: { type: 'string', value: 'R', help: 'with --after-plan: remote the upstream commits are fetched from' },
    patch: { type: 'string', multiple: true, value: 'FILE', help: 'with --after-plan: mbox/patch files holding the upstream commits' },
    configs: {
      type: 'string',
      multiple: true,
      value: 'LIST',
      help: 'configurations (default: masq,dnat1,dnat2-random,dnat2-nth,snat-ports,nonat,serial; all: also masq-random,masq-random-fully,dnat2-random-masq,udp2-ports,tcp2-ports)',
    },
    trials: { type: 'string', value: 'N', help: 'racing trials per configuration (default 10000)' },
    ref: { type: 'string', value: 'REF', help: 'the commit to build (default HEAD; uncommitted changes are never built)' },
    accel: { type: 'string', value: 'kvm|tcg|auto', help: 'qemu accelerator (default auto: KVM when /dev/kvm opens)' },
    iptables: { type: 'string', value: 'legacy|nft', help: 'iptables flavour in the VM (default legacy)' },
    timeout: { type: 'string', value: 'MS', help: 'reply timeout per trial (default 30)' },
    every: { type: 'string', value: 'MS', help: 'figures so far every MS while a configuration races (default 2000; 0: only at its end)' },
    'max-seconds': { type: 'string', value: 'S', help: 'upper bound of one configuration (default 120)' },
    cache: { type: 'string', value: 'DIR', help: 'cache folder (default ~/.cache/conntrack-backport)' },
    jobs: { type: 'string', value: 'N', help: 'make -j (default 2)' },
    'build-only': { type: 'boolean', help: 'build (and check the configuration) without booting' },
    progress: { type: 'boolean', help: 'progress lines on stderr' },
  },
  positionals: { min: 1, max: 1, names: 'a kernel tree (git checkout, bare repository, or plain source directory)' },
  conflicts: [['json', 'markdown']],
  notes: [
    'Needs: gcc make flex bison bc libelf-dev libssl-dev qemu-system-x86 busybox-static e2fsprogs iproute2 iptables.',
    'Builds are cached per commit and plan result: a second run on an unchanged tree does not run make.',
  ],
  async run(a, io) {
    const { runTestPlan, formatTestPlan, testPlanSection } = await import('../core/testplan');
    const accel = str(a, 'accel') ?? 'auto';
    if (!['kvm', 'tcg', 'auto'].includes(accel)) throw new UsageError(`--accel must be kvm, tcg or auto, got '${accel}'`);
    const ipt = str(a, 'iptables') ?? 'legacy';
    if (ipt !== 'legacy' && ipt !== 'nft') throw new UsageError(`--iptables must be legacy or nft, got '${ipt}'`);
    if (!flag(a, 'after-plan') && (str(a, 'remote') || list(a, 'patch').length))
      throw new UsageError('--remote and --patch are read only with --after-plan');
    const t0 = Date.now();
    // Ctrl-C or a kill: make and qemu run in their own process groups (a terminal's SIGINT does
    // not reach them), so abort the run, which kills both groups, before exiting.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let r;
    try {
      r = await runTestPlan(a.positionals[0], {
        signal: stop.signal,
        afterPlan: flag(a, 'after-plan'),
        plan: { remote: str(a, 'remote'), patchFiles: list(a, 'patch') },
        configs: list(a, 'configs'),
        trials: num(a, 'trials'),
        ref: str(a, 'ref'),
        accel: accel as 'kvm' | 'tcg' | 'auto',
        iptables: ipt,
        replyTimeoutMs: num(a, 'timeout'),
        everyMs: num(a, 'every'),
        maxSecondsPerConfig: num(a, 'max-seconds'),
        cache: str(a, 'cache'),
        jobs: num(a, 'jobs'),
        buildOnly: flag(a, 'build-only'),
        progress: flag(a, 'progress') ? (phase, m) => io.err(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${phase}: ${m}`) : undefined,
      });
    } catch (e) {
      const m = (e as Error).message;
      if (stop.signal.aborted) throw new InputError('cancelled (build and VM stopped)');
      if (/^unknown configuration/.test(m)) throw new UsageError(m);
      if (/not a kernel tree|not a directory|configured in place|needs a git tree|^missing: /.test(m)) throw new InputError(m);
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (stop.signal.aborted) throw new InputError('cancelled (build and VM stopped)');
    if (flag(a, 'json')) io.out(JSON.stringify(r, null, 2));
    else if (flag(a, 'markdown')) io.out(testPlanSection(r).join('\n'));
    else io.out(formatTestPlan(r));
    return r.runs.some((x) => x.error) ? EXIT.gate : EXIT.ok;
  },
};

// The test plan: build the user's kernel (and, with afterPlan, the tree as the backport plan
// would leave it), boot each in a VM, race the configurations there, and put the measured
// figures beside the model's prediction for the same configuration and variant.

import { detectText } from '../detect';
import { CORE_REL_PATH } from '../detect/input';
import { modelVariantFromDetection, type ModelVariantId } from '../model/variants';
import { buildKernel, cacheRoot, resolveTree, type BuildResult, type Progress, type TreeSource } from './build';
import { parseConfigList, testConfig } from './configs';
import { buildRootImage, missingTools } from './rootfs';
import { configResult, figureStream, parseRunLines, resultLine, type ConfigResult } from './results';
import { bootVm, type Accel, type BootResult } from './vm';

export * from './configs';
export * from './results';
export * from './kconfig';
export { resolveTree, buildKernel, cacheRoot } from './build';
export type { TreeSource, BuildResult, Progress, Overlay } from './build';
export { buildRootImage, compileRepro, assetDir, missingTools } from './rootfs';
export { bootVm, kvmUsable } from './vm';
export { formatTestPlan, testPlanSection, formatProbe, formatSideBySide } from './format';
export { runProbe, probeRefusal, counterForensics, raceVerdicts, resolveConfigs } from './probe';
export type { ProbeResult, ProbeOptions, RaceMeasure, CounterForensics } from './probe';

export interface TestPlanOptions {
  ref?: string;
  afterPlan?: boolean;
  /** Options for the plan (remote, patch files, commit overrides) when afterPlan. */
  plan?: { remote?: string; patchFiles?: string[]; commits?: Partial<Record<'ed07d9a021df' | '4e35c1cb9460', string>> };
  configs?: string[];
  trials?: number;
  /** Reply timeout per trial (ms). */
  replyTimeoutMs?: number;
  /** Upper bound of one configuration's racing loop (s). */
  maxSecondsPerConfig?: number;
  /** Figures so far every this many ms while a configuration races (default 2000; 0: only at its end). */
  everyMs?: number;
  /** Each figure as it arrives: so far (partial) while a configuration races, then its whole result. */
  onFigures?: (label: 'before' | 'after', result: ConfigResult, o: { partial: boolean; trials: number; vmMs: number }) => void;
  accel?: Accel | 'auto';
  iptables?: 'legacy' | 'nft';
  cache?: string;
  jobs?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Skip the VM (build only). */
  buildOnly?: boolean;
}

export interface VariantRun {
  label: 'before' | 'after';
  /** What was built: commit (+ the plan's files). */
  source: string;
  variant: ModelVariantId;
  variantCaveats: string[];
  build?: Omit<BuildResult, 'dotConfig' | 'log'>;
  boot?: Omit<BootResult, 'lines' | 'diskLines'> & { kernel?: string };
  configs: ConfigResult[];
  error?: string;
}

export interface TestPlanResult {
  tree: string;
  release: string;
  kind: TreeSource['kind'];
  commit?: string;
  uncommitted: string[];
  trials: number;
  configs: string[];
  iptables: 'legacy' | 'nft';
  runs: VariantRun[];
  /** The plan's steps when afterPlan (one line each), or why there is no "after". */
  plan?: { steps: string[]; files: string[]; note?: string };
  rootfsMs: number;
  totalMs: number;
  /** When the run ended (ISO time). */
  finishedAt?: string;
  /** The command line that reproduces this run. */
  command: string;
}

async function variantOf(text: string): Promise<{ variant: ModelVariantId; caveats: string[] }> {
  const d = await detectText(text, CORE_REL_PATH);
  const m = modelVariantFromDetection(d);
  return { variant: m.variant, caveats: m.caveats };
}

export async function runTestPlan(target: string, o: TestPlanOptions = {}): Promise<TestPlanResult> {
  const t0 = Date.now();
  const progress: Progress = o.progress ?? (() => undefined);
  const configs = parseConfigList(o.configs);
  const trials = Math.max(1, Math.min(1_000_000, Math.floor(o.trials ?? 10000)));
  const iptables = o.iptables ?? 'legacy';
  const miss = missingTools();
  if (miss) throw new Error(miss);
  const tree = await resolveTree(target, o.ref);
  const cmd = [
    'conntrack-backport',
    'testplan',
    target,
    ...(o.afterPlan ? ['--after-plan'] : []),
    '--configs',
    configs.join(','),
    '--trials',
    String(trials),
  ];
  if (o.plan?.remote) cmd.push('--remote', o.plan.remote);
  for (const p of o.plan?.patchFiles ?? []) cmd.push('--patch', p);
  const result: TestPlanResult = {
    tree: tree.root,
    release: tree.release,
    kind: tree.kind,
    commit: tree.commit,
    uncommitted: tree.uncommitted,
    trials,
    configs,
    iptables,
    runs: [],
    rootfsMs: 0,
    totalMs: 0,
    command: cmd.join(' '),
  };
  if (tree.uncommitted.length)
    progress(
      'export',
      `${tree.uncommitted.length} uncommitted change(s) are not part of the build (it is made from ${tree.commit!.slice(0, 12)})`,
    );

  const variants: { label: 'before' | 'after'; overlay: Record<string, string>; core: string; source: string }[] = [
    { label: 'before', overlay: {}, core: tree.coreText, source: tree.commit ? tree.commit.slice(0, 12) : tree.root },
  ];
  if (o.afterPlan) {
    if (tree.kind !== 'git') throw new Error('--after-plan needs a git tree: the plan is applied to a commit');
    progress('plan', 'planning the backport and applying it in a throw-away repository');
    const { prepareBackport, predictDiff, stepLine } = await import('../backport');
    const { plan } = await prepareBackport(tree.root, { remote: o.plan?.remote, patchFiles: o.plan?.patchFiles, commits: o.plan?.commits });
    const steps = plan.steps.map((s, i) => stepLine(s, i));
    if (plan.blocked || !plan.steps.length) {
      result.plan = { steps, files: [], note: plan.blocked ? `plan blocked: ${plan.blocked}` : `nothing to backport: ${plan.noop ?? ''}` };
    } else {
      const pd = await predictDiff(tree.root, plan, { fetch: true });
      if (pd.conflict)
        throw new Error(
          `the plan does not apply cleanly: step ${pd.conflict.step} (${pd.conflict.subject}) conflicts in ${pd.conflict.files.join(', ')}`,
        );
      const overlay: Record<string, string> = {};
      for (const f of pd.files) if (f.after !== null) overlay[f.path] = f.after;
      result.plan = { steps, files: pd.files.map((f) => f.path) };
      variants.push({
        label: 'after',
        overlay,
        core: overlay[CORE_REL_PATH] ?? tree.coreText,
        source: `${tree.commit!.slice(0, 12)} + plan (${plan.steps.length} step(s))`,
      });
    }
  }

  let rootImage: string | null = null;
  for (const v of variants) {
    const { variant, caveats } = await variantOf(v.core);
    const run: VariantRun = { label: v.label, source: v.source, variant, variantCaveats: caveats, configs: [] };
    result.runs.push(run);
    try {
      progress('build', `${v.label}: building ${tree.release} (${v.source})`);
      const b = await buildKernel(tree, { cache: o.cache, overlay: { files: v.overlay }, jobs: o.jobs, signal: o.signal, progress });
      const { dotConfig: _d, log: _l, ...bRest } = b;
      run.build = bRest;
      if (b.check.missing.length) progress('config', `options missing after olddefconfig: ${b.check.missing.join(', ')}`);
      if (o.buildOnly) continue;
      if (!rootImage) {
        const ri = await buildRootImage({ cache: o.cache, signal: o.signal, progress });
        rootImage = ri.image;
        result.rootfsMs = ri.ms;
      }
      const maxS = Math.max(5, o.maxSecondsPerConfig ?? 120);
      // Figures as they come: so far while a configuration races, then its whole result.
      let lastMs = 0;
      const figures = figureStream(variant, (c, partial) => {
        progress('run', `${v.label}: ${partial ? 'so far' : 'result'} ${resultLine(c, trials)} (${(lastMs / 1000).toFixed(1)} s)`);
        o.onFigures?.(v.label, c, { partial, trials, vmMs: lastMs });
      });
      progress('boot', `${v.label}: booting (${configs.length} configuration(s), ${trials} trials each)`);
      const boot = await bootVm({
        bzImage: b.bzImage,
        image: rootImage,
        accel: o.accel,
        signal: o.signal,
        cacheDir: cacheRoot(o.cache),
        params: [
          `ctb.configs=${configs.join(',')}`,
          `ctb.trials=${trials}`,
          `ctb.timeout=${o.replyTimeoutMs ?? 30}`,
          `ctb.max=${maxS}`,
          `ctb.iptables=${iptables}`,
          `ctb.every=${Math.max(0, Math.floor(o.everyMs ?? 2000))}`,
        ],
        timeoutMs: (180 + configs.length * (maxS + 30)) * 1000,
        onLine: (l, ms) => {
          lastMs = ms;
          figures(l);
          const m = /@@ctb (begin|end|boot|error|note) ?(.*)$/.exec(l);
          if (m) progress(m[1] === 'boot' ? 'boot' : 'run', `${v.label}: ${m[1]} ${m[2]} (${(ms / 1000).toFixed(1)} s)`);
        },
      });
      // The disk copy is whole; the console is the fallback when the VM did not finish.
      const parsed = parseRunLines(boot.diskLines ?? boot.lines);
      if (!parsed.boot) parsed.boot = parseRunLines(boot.lines).boot;
      const { lines: _x, diskLines: _y, ...bootRest } = boot;
      run.boot = { ...bootRest, kernel: parsed.boot };
      if (!parsed.boot)
        run.error = `the VM did not reach /init: ${
          boot.lines
            .filter((l) => /panic|Kernel|VFS|error/i.test(l))
            .slice(-3)
            .join(' / ') || 'no output'
        }`;
      progress('model', `${v.label}: the model's prediction (${variant}) for each configuration`);
      for (const name of configs) {
        const raw = parsed.runs.find((r) => r.config === name) ?? {
          config: name,
          before: [],
          after: [],
          form: 'none' as const,
          ended: false,
          error: 'not run',
        };
        run.configs.push(configResult(raw, variant));
      }
    } catch (e) {
      run.error = (e as Error).message;
      if (o.signal?.aborted) break;
    }
  }
  result.totalMs = Date.now() - t0;
  result.finishedAt = new Date().toISOString();
  return result;
}

export { testConfig };

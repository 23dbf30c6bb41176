// `probe`: the test plan's reproducers against the running kernel in network namespaces this
// command creates and removes (root, Linux): is this node affected, per race, with which
// counters exist and which form was read.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, EXIT, flag, InputError, list, num, str } from './command';

export const probe: Command = {
  name: 'probe',
  summary: 'Is this node affected? Race UDP through NAT in network namespaces on the running kernel (root) and read its counters.',
  synopsis: ['[--json] [--configs a,b] [--trials N] [--tree <kernel-tree>]'],
  options: {
    json: { type: 'boolean', help: 'as JSON' },
    configs: {
      type: 'string',
      multiple: true,
      value: 'LIST',
      help: 'configurations (default: masq,dnat1,dnat2-random,dnat2-nth,snat-ports,nonat,serial; all: also masq-random,masq-random-fully,dnat2-random-masq,udp2-ports,tcp2-ports)',
    },
    trials: { type: 'string', value: 'N', help: 'racing trials per configuration (default 3000)' },
    tree: {
      type: 'string',
      value: 'PATH',
      help: "the running kernel's source tree: its static verdicts and model variant beside the measurement",
    },
    iptables: { type: 'string', value: 'CMD', help: 'iptables command to use (default iptables)' },
    timeout: { type: 'string', value: 'MS', help: 'reply timeout per trial (default 10)' },
  },
  positionals: { min: 0, max: 0, names: '' },
  async run(a, io) {
    const { runProbe, formatProbe, probeRefusal } = await import('../core/testplan');
    const refusal = probeRefusal();
    if (refusal) throw new InputError(refusal);
    let detection, variant, treeRelease;
    const tree = str(a, 'tree');
    if (tree) {
      const { detectPath } = await import('../core/detect');
      const { modelVariantFromDetection } = await import('../core/model');
      const { makefileRelease } = await import('../core/testplan');
      detection = await detectPath(tree, { history: false });
      if (!detection.kernelFile) throw new InputError(`${tree}: not analysable: ${detection.reason ?? 'no nf_conntrack_core.c'}`);
      variant = modelVariantFromDetection(detection).variant;
      try {
        treeRelease = makefileRelease(fs.readFileSync(path.join(tree, 'Makefile'), 'latin1')) ?? undefined;
      } catch {
        /* a loose file */
      }
    }
    // Ctrl-C or a kill: the reproducers run in their own process groups, so stop them and remove
    // the namespaces (the probe does both on an abort) before exiting.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const r = await runProbe({
      signal: stop.signal,
      configs: list(a, 'configs'),
      trials: num(a, 'trials'),
      iptables: str(a, 'iptables'),
      replyTimeoutMs: num(a, 'timeout'),
      detection,
      variant,
      treePath: tree,
      treeRelease,
    })
      .catch((e: Error) => {
        if (stop.signal.aborted) throw new InputError('cancelled (reproducers stopped, namespaces removed)');
        throw e;
      })
      .finally(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });
    io.out(flag(a, 'json') ? JSON.stringify(r, null, 2) : formatProbe(r));
    return EXIT.ok;
  },
};

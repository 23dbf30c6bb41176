// Booting the built kernel with qemu: KVM when /dev/kvm can be opened, TCG otherwise; the root
// image read-only (snapshot=on); parameters on the kernel command line; results read from the
// serial console. The VM powers itself off; -no-reboot turns a panic or a reboot into an exit;
// a time limit kills the process group if neither happens.

import * as fs from 'node:fs';
import { runProc } from '../git/proc';

export type Accel = 'kvm' | 'tcg';

export function kvmUsable(): boolean {
  try {
    const fd = fs.openSync('/dev/kvm', 'r+');
    fs.closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

export interface BootOptions {
  bzImage: string;
  image: string;
  accel?: Accel | 'auto';
  cpus?: number;
  memMb?: number;
  /** Extra kernel parameters (ctb.configs=…, ctb.trials=…). */
  params: string[];
  timeoutMs: number;
  signal?: AbortSignal;
  onLine?: (line: string, msSinceStart: number) => void;
}

export interface BootResult {
  accel: Accel;
  lines: string[];
  ms: number;
  /** Time from qemu's start to the first "@@ctb boot" line. */
  bootMs: number | null;
  /** Time to the first configuration's result. */
  firstResultMs: number | null;
}

export async function bootVm(o: BootOptions): Promise<BootResult> {
  const accel: Accel = o.accel === 'kvm' || o.accel === 'tcg' ? o.accel : kvmUsable() ? 'kvm' : 'tcg';
  const args = [
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi']),
    '-smp', String(o.cpus ?? 2), '-m', String(o.memMb ?? 512), '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-nodefaults', '-no-reboot',
    '-kernel', o.bzImage, '-drive', `file=${o.image},format=raw,if=virtio,snapshot=on`,
    '-append', ['console=ttyS0', 'panic=-1', 'root=/dev/vda', 'rw', 'init=/init', 'quiet', ...o.params].join(' '),
  ];
  const t0 = Date.now();
  const lines: string[] = [];
  let bootMs: number | null = null;
  let firstResultMs: number | null = null;
  await runProc('qemu-system-x86_64', args, {
    signal: o.signal, timeoutMs: o.timeoutMs, mergeStderr: true, maxBuffer: 1 << 20,
    onLine: (l) => {
      const ms = Date.now() - t0;
      lines.push(l);
      if (bootMs === null && l.includes('@@ctb boot')) bootMs = ms;
      if (firstResultMs === null && l.includes('@@ctb result')) firstResultMs = ms;
      o.onLine?.(l, ms);
    },
  });
  return { accel, lines, ms: Date.now() - t0, bootMs, firstResultMs };
}

// Booting the built kernel with qemu: KVM when /dev/kvm can be opened, TCG otherwise; the root
// image read-only (snapshot=on); parameters on the kernel command line; results read from the
// serial console. The VM powers itself off; -no-reboot turns a panic or a reboot into an exit;
// a time limit kills the process group if neither happens.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProc, which } from '../git/proc';

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
  /** The test plan's cache folder: where a KVM that does not work here is remembered. */
  cacheDir?: string;
}

export interface BootResult {
  accel: Accel;
  lines: string[];
  /** The results as the guest wrote them to the second disk (null when it did not finish). */
  diskLines: string[] | null;
  ms: number;
  /** Time from qemu's start to the first "@@ctb boot" line. */
  bootMs: number | null;
  /** Time to the first configuration's whole result. */
  firstResultMs: number | null;
  /** Time to the first figure: a configuration's figures so far while it races, or its whole result. */
  firstFigureMs: number | null;
}

/**
 * Where a KVM boot that never reached /init is remembered: /dev/kvm can open and still not run
 * a guest (nested virtualisation without the CPU features, seen here: qemu then prints nothing
 * at all), and finding out costs the whole wait. The note names the host kernel and the qemu
 * binary, so an upgrade of either tries KVM again.
 */
function kvmNoteFile(cacheDir: string | undefined): string | null {
  return cacheDir ? path.join(cacheDir, 'kvm-unusable.json') : null;
}

function hostStamp(): string {
  const qemu = which('qemu-system-x86_64');
  let q = 'none';
  try {
    if (qemu) {
      const st = fs.statSync(qemu);
      q = `${qemu}:${st.size}:${st.mtimeMs}`;
    }
  } catch {
    /* keep none */
  }
  return `${os.release()} ${q}`;
}

/** True when an earlier KVM boot on this host (same kernel, same qemu) never reached /init. */
export function kvmKnownBroken(cacheDir: string | undefined): boolean {
  const f = kvmNoteFile(cacheDir);
  if (!f) return false;
  try {
    return (JSON.parse(fs.readFileSync(f, 'utf8')) as { stamp?: string }).stamp === hostStamp();
  } catch {
    return false;
  }
}

function noteKvmBroken(cacheDir: string | undefined, why: string): void {
  const f = kvmNoteFile(cacheDir);
  if (!f) return;
  try {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, JSON.stringify({ stamp: hostStamp(), why, at: new Date().toISOString() }, null, 1));
  } catch {
    /* only a shortcut */
  }
}

/** How long a KVM boot may take to print "@@ctb boot" before TCG is tried (a working KVM needs ~1-2 s). */
const KVM_BOOT_WAIT_MS = 20_000;

/**
 * Boot once. With accel 'auto' and a /dev/kvm that opens, KVM is tried first unless an earlier
 * run found it unusable on this host; a KVM boot that fails or prints no "@@ctb boot" within
 * 20 s is noted and retried under TCG.
 */
export async function bootVm(o: BootOptions): Promise<BootResult> {
  const auto = (o.accel ?? 'auto') === 'auto';
  if (auto && kvmUsable() && kvmKnownBroken(o.cacheDir))
    o.onLine?.('@@ctb note KVM did not boot here before (see kvm-unusable.json in the cache): TCG', 0);
  else if (auto && kvmUsable()) {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let booted = false;
    const timer = setTimeout(() => {
      if (!booted) ac.abort();
    }, KVM_BOOT_WAIT_MS);
    try {
      return await bootOnce(
        {
          ...o,
          signal: ac.signal,
          onLine: (l, ms) => {
            if (l.includes('@@ctb boot')) booted = true;
            o.onLine?.(l, ms);
          },
        },
        'kvm',
      );
    } catch (e) {
      if (o.signal?.aborted || booted) throw e;
      const why = (e as Error).message.split('\n')[0].slice(0, 120);
      noteKvmBroken(o.cacheDir, why);
      o.onLine?.(`@@ctb note KVM did not boot (${why}): TCG instead`, 0);
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
    return bootOnce(o, 'tcg');
  }
  return bootOnce(o, o.accel === 'kvm' ? 'kvm' : 'tcg');
}

async function bootOnce(o: BootOptions, accel: Accel): Promise<BootResult> {
  const args = [
    ...(accel === 'kvm' ? ['-accel', 'kvm'] : ['-accel', 'tcg,thread=multi']),
    '-smp',
    String(o.cpus ?? 2),
    '-m',
    String(o.memMb ?? 512),
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-nodefaults',
    '-no-reboot',
    '-kernel',
    o.bzImage,
    '-drive',
    `file=${o.image},format=raw,if=virtio,snapshot=on`,
    '-append',
    ['console=ttyS0', 'panic=-1', 'root=/dev/vda', 'rw', 'init=/init', 'quiet', ...o.params].join(' '),
  ];
  // The guest writes its results raw to a second disk as well (serial consoles drop characters under load).
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conntrack-backport-vm-'));
  const outImg = path.join(outDir, 'out.img');
  fs.writeFileSync(outImg, Buffer.alloc(8 << 20));
  args.splice(args.indexOf('-append'), 0, '-drive', `file=${outImg},format=raw,if=virtio`);
  const t0 = Date.now();
  const lines: string[] = [];
  let bootMs: number | null = null;
  let firstResultMs: number | null = null;
  let firstFigureMs: number | null = null;
  let diskLines: string[] | null = null;
  try {
    await runProc('qemu-system-x86_64', args, {
      signal: o.signal,
      timeoutMs: o.timeoutMs,
      mergeStderr: true,
      maxBuffer: 1 << 20,
      onLine: (l) => {
        const ms = Date.now() - t0;
        lines.push(l);
        if (bootMs === null && l.includes('@@ctb boot')) bootMs = ms;
        if (firstResultMs === null && l.includes('@@ctb result')) firstResultMs = ms;
        if (firstFigureMs === null && (l.includes('@@ctb result') || l.includes('@@ctb partial'))) firstFigureMs = ms;
        o.onLine?.(l, ms);
      },
    });
  } finally {
    const disk = fs.readFileSync(outImg).toString('latin1');
    fs.rmSync(outDir, { recursive: true, force: true });
    const end = disk.indexOf('\0');
    const text = end < 0 ? disk : disk.slice(0, end);
    if (text.includes('@@ctb done')) diskLines = text.split('\n');
  }
  return { accel, lines, diskLines, ms: Date.now() - t0, bootMs, firstResultMs, firstFigureMs };
}

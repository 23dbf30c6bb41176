// The VM's root image: Debian's static busybox with its applet links, iproute2's `ip`, iptables
// (xtables-legacy-multi and xtables-nft-multi with the libraries ldd names and the extension
// folder), our reproducers compiled statically, the per-configuration script and /init.
// Kept in the cache under a hash of everything that went in.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProc, which } from '../git/proc';
import { cacheRoot, type Progress } from './build';
import { configShell, TEST_CONFIGS, type TestConfig } from './configs';

/** Where the C reproducers and guest scripts are: beside the bundle (dist/testplan) or in the source tree. */
export function assetDir(): string {
  const cands = [path.join(__dirname, 'testplan'), __dirname];
  for (let d = __dirname, i = 0; i < 6; i++, d = path.dirname(d)) cands.push(path.join(d, 'src', 'core', 'testplan'));
  for (const c of cands)
    if (fs.existsSync(path.join(c, 'repro', 'ctb_race.c')) && fs.existsSync(path.join(c, 'guest', 'ctb-config.sh'))) return c;
  throw new Error('test plan assets (repro/*.c, guest/*.sh) not found beside the program');
}

export const REPRO_SOURCES = ['ctb_race.c', 'ctb_srv.c'];

/** Host tools the test plan needs, with the Debian package that has each. */
export const HOST_TOOLS: [string, string][] = [
  ['gcc', 'gcc'],
  ['make', 'make'],
  ['flex', 'flex'],
  ['bison', 'bison'],
  ['bc', 'bc'],
  ['tar', 'tar'],
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['busybox', 'busybox-static'],
  ['mke2fs', 'e2fsprogs'],
  ['ip', 'iproute2'],
  ['xtables-legacy-multi', 'iptables'],
  ['xtables-nft-multi', 'iptables'],
  ['ldd', 'libc-bin'],
];

/** Missing host tools as one line naming the apt packages, or null. */
export function missingTools(tools: [string, string][] = HOST_TOOLS): string | null {
  const miss = tools.filter(([t]) => !which(t));
  if (!miss.length) return null;
  return `missing: ${miss.map(([t]) => t).join(', ')} (apt-get install ${[...new Set(miss.map(([, p]) => p))].join(' ')} libelf-dev libssl-dev)`;
}

/** Each configuration's shell lines, as `configs/NAME.sh` under `out` (ctb-config.sh sources them). */
export function writeConfigShells(out: string, configs: readonly TestConfig[] = TEST_CONFIGS): void {
  const dir = path.join(out, 'configs');
  fs.mkdirSync(dir, { recursive: true });
  for (const c of configs) fs.writeFileSync(path.join(dir, `${c.name}.sh`), configShell(c));
}

/**
 * Compile the reproducers with the host compiler into `out` (static when asked), with
 * ctb-config.sh and the configurations' shell files beside them (default: every built-in one).
 */
export async function compileRepro(
  out: string,
  opts: { static: boolean; signal?: AbortSignal; configs?: readonly TestConfig[] },
): Promise<string[]> {
  const dir = path.join(assetDir(), 'repro');
  fs.mkdirSync(out, { recursive: true });
  const bins: string[] = [];
  for (const c of REPRO_SOURCES) {
    const bin = path.join(out, c.replace(/\.c$/, ''));
    await runProc('gcc', ['-O2', ...(opts.static ? ['-static'] : []), '-pthread', '-Wall', '-o', bin, path.join(dir, c)], {
      signal: opts.signal,
    });
    bins.push(bin);
  }
  fs.copyFileSync(path.join(assetDir(), 'guest', 'ctb-config.sh'), path.join(out, 'ctb-config.sh'));
  writeConfigShells(out, opts.configs);
  return bins;
}

async function libsOf(bin: string): Promise<string[]> {
  const r = await runProc('ldd', [bin], { okCodes: [1] });
  const libs: string[] = [];
  for (const l of r.stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(l) ?? /^\s*(\/\S+)\s+\(/.exec(l);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function copyInto(root: string, file: string, as = file): void {
  const dst = path.join(root, as);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(fs.realpathSync(file), dst);
  fs.chmodSync(dst, fs.statSync(fs.realpathSync(file)).mode & 0o777);
}

export interface RootImage {
  image: string;
  cached: boolean;
  ms: number;
}

export async function buildRootImage(opts: { cache?: string; signal?: AbortSignal; progress?: Progress } = {}): Promise<RootImage> {
  const t0 = Date.now();
  const miss = missingTools(HOST_TOOLS.filter(([t]) => ['gcc', 'busybox', 'mke2fs', 'ip', 'xtables-legacy-multi', 'ldd'].includes(t)));
  if (miss) throw new Error(miss);
  const assets = assetDir();
  const tools = ['busybox', 'ip', 'xtables-legacy-multi', 'xtables-nft-multi'].map((t) => which(t)).filter((x): x is string => !!x);
  const h = createHash('sha256');
  for (const f of [
    ...REPRO_SOURCES.map((c) => path.join(assets, 'repro', c)),
    path.join(assets, 'guest', 'ctb-config.sh'),
    path.join(assets, 'guest', 'init.sh'),
  ])
    h.update(fs.readFileSync(f));
  for (const c of TEST_CONFIGS) h.update(configShell(c));
  for (const t of tools) h.update(`${t}:${fs.statSync(t).size}`);
  const key = h.digest('hex').slice(0, 20);
  const dir = path.join(cacheRoot(opts.cache), 'rootfs', key);
  const image = path.join(dir, 'root.img');
  if (fs.existsSync(image)) return { image, cached: true, ms: Date.now() - t0 };
  opts.progress?.('rootfs', 'assembling the root image (busybox, ip, iptables, reproducers)');
  const tree = path.join(dir, 'tree');
  fs.rmSync(tree, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'run', 'etc', 'ctb', 'lib64', 'root'])
    fs.mkdirSync(path.join(tree, d), { recursive: true });
  fs.mkdirSync(path.join(tree, 'var'), { recursive: true });
  fs.symlinkSync('../run', path.join(tree, 'var', 'run'));
  const bb = which('busybox')!;
  const bbFile = await runProc('file', ['-L', bb]).then(
    (r) => r.stdout,
    () => 'static',
  );
  if (!/static/.test(bbFile)) throw new Error(`${bb} is not statically linked (apt-get install busybox-static)`);
  copyInto(tree, bb, 'bin/busybox');
  const applets = (await runProc(bb, ['--list'])).stdout.split('\n').filter(Boolean);
  const own = new Set(['ip', 'iptables', 'iptables-save', 'iptables-restore', 'busybox', 'init']);
  for (const a of applets) if (!own.has(a)) fs.symlinkSync('busybox', path.join(tree, 'bin', a));
  const dyn = tools.filter((t) => !t.endsWith('busybox'));
  const xt = ['/usr/lib/x86_64-linux-gnu/xtables', '/usr/lib/xtables', '/lib/xtables'].find((d) => fs.existsSync(d));
  const xtLibs = xt
    ? fs
        .readdirSync(xt)
        .filter((f) => f.endsWith('.so'))
        .map((f) => path.join(xt, f))
    : [];
  const libs = new Set<string>();
  for (const b of [...dyn, ...xtLibs]) for (const l of await libsOf(b)) libs.add(l);
  for (const l of libs) copyInto(tree, l);
  for (const x of xtLibs) copyInto(tree, x);
  copyInto(tree, which('ip')!, 'sbin/ip');
  for (const [bin, names] of [
    [
      'xtables-legacy-multi',
      ['iptables-legacy', 'iptables-legacy-save', 'iptables-legacy-restore', 'iptables', 'iptables-save', 'iptables-restore'],
    ],
    ['xtables-nft-multi', ['iptables-nft', 'iptables-nft-save', 'iptables-nft-restore']],
  ] as const) {
    const p = which(bin);
    if (!p) continue;
    copyInto(tree, p, `sbin/${bin}`);
    for (const n of names) fs.symlinkSync(bin, path.join(tree, 'sbin', n));
  }
  for (const f of ['/etc/protocols', '/etc/services', '/etc/ethertypes']) if (fs.existsSync(f)) copyInto(tree, f);
  fs.writeFileSync(path.join(tree, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await compileRepro(path.join(tree, 'ctb'), { static: true, signal: opts.signal });
  fs.copyFileSync(path.join(assets, 'guest', 'init.sh'), path.join(tree, 'init'));
  fs.chmodSync(path.join(tree, 'init'), 0o755);
  const du = await runProc('du', ['-sm', tree]);
  const mb = Number(du.stdout.split(/\s/)[0]) + 48;
  await runProc('mke2fs', ['-q', '-F', '-t', 'ext2', '-d', tree, image + '.tmp', `${mb}M`], { signal: opts.signal });
  fs.renameSync(image + '.tmp', image);
  fs.rmSync(tree, { recursive: true, force: true });
  return { image, cached: false, ms: Date.now() - t0 };
}

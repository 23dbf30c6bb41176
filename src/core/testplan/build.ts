// Building the user's kernel out of place, cached. A git tree is exported (git archive of the
// commit into the cache, never touching the user's work tree, index or refs); a plain source
// directory (e.g. Debian's linux-source) is only read (make -C SRC O=BUILD writes into BUILD).
// One export and one build directory per commit: a variant (the tree as the plan would leave it)
// is the export with the plan's files written over it, so make rebuilds only what changed.
// Each finished bzImage is kept under a key of (commit or directory, overlay blobs, fragment),
// so a second run on an unchanged tree does not run make at all.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gitRun, gitText } from '../git/run';
import { runProc, which } from '../git/proc';
import { CORE_REL_PATH } from '../detect/input';
import { checkConfig, configFragment, makefileRelease, makefileVersion, type ConfigCheck, type KVersion } from './kconfig';

export type Progress = (phase: 'export' | 'config' | 'build' | 'rootfs' | 'boot' | 'run' | 'model' | 'plan', message: string) => void;

export interface TreeSource {
  kind: 'git' | 'dir';
  /** The path the user named. */
  root: string;
  /** git: the commit built (HEAD unless a ref was given) and its tree. */
  commit?: string;
  tree?: string;
  release: string;
  version: KVersion;
  coreText: string;
  /** git work trees: paths with uncommitted changes (not part of the build). */
  uncommitted: string[];
}

export function cacheRoot(override?: string): string {
  const base =
    override ??
    process.env.CONNTRACK_BACKPORT_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'conntrack-backport');
  return path.join(base, 'testplan');
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** What `target` is: a git repository (work tree or bare) at `ref`, or a plain kernel source directory. */
export async function resolveTree(target: string, ref = 'HEAD'): Promise<TreeSource> {
  const root = path.resolve(target);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`${target}: not a directory`);
  let isGit = false;
  try {
    await gitText(root, ['rev-parse', '--git-dir']);
    isGit = true;
  } catch {
    /* not git */
  }
  if (isGit) {
    const top =
      (await gitText(root, ['rev-parse', '--is-bare-repository'])).trim() === 'true'
        ? root
        : (await gitText(root, ['rev-parse', '--show-toplevel'])).trim();
    const gitOnly = path.resolve(top) !== root && fs.existsSync(path.join(root, 'Makefile'));
    if (!gitOnly) {
      const commit = (await gitText(top, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`])).trim();
      const tree = (await gitText(top, ['rev-parse', `${commit}^{tree}`])).trim();
      const show = async (p: string) => {
        try {
          return (await gitRun(top, ['cat-file', 'blob', `${commit}:${p}`])).toString('latin1');
        } catch {
          return null;
        }
      };
      const mk = await show('Makefile');
      const core = await show(CORE_REL_PATH);
      const version = mk ? makefileVersion(mk) : null;
      if (!mk || !version || core === null)
        throw new Error(`${target} at ${ref}: not a kernel tree (no top-level Makefile with VERSION/PATCHLEVEL or no ${CORE_REL_PATH})`);
      let uncommitted: string[] = [];
      try {
        uncommitted = (await gitText(top, ['status', '--porcelain', '-z', '--untracked-files=no']))
          .split('\0')
          .filter(Boolean)
          .map((l) => l.slice(3));
      } catch {
        /* bare */
      }
      return { kind: 'git', root: top, commit, tree, release: makefileRelease(mk)!, version, coreText: core, uncommitted };
    }
  }
  const mkPath = path.join(root, 'Makefile');
  const corePath = path.join(root, CORE_REL_PATH);
  const mk = fs.existsSync(mkPath) ? fs.readFileSync(mkPath, 'latin1') : null;
  const version = mk ? makefileVersion(mk) : null;
  if (!mk || !version || !fs.existsSync(corePath))
    throw new Error(`${target}: not a kernel tree (no top-level Makefile with VERSION/PATCHLEVEL or no ${CORE_REL_PATH})`);
  if (fs.existsSync(path.join(root, '.config')) || fs.existsSync(path.join(root, 'include', 'config'))) {
    throw new Error(
      `${target}: the source directory has been configured in place (.config or include/config): out-of-place builds need a clean tree (make mrproper there, or give a git tree)`,
    );
  }
  return { kind: 'dir', root, release: makefileRelease(mk)!, version, coreText: fs.readFileSync(corePath, 'latin1'), uncommitted: [] };
}

export interface Overlay {
  /** Repository-relative path -> file content (the plan's result). */
  files: Record<string, string>;
}

export interface BuildResult {
  bzImage: string;
  key: string;
  cached: boolean;
  /** Wall time of make (0 when cached). */
  buildMs: number;
  configMs: number;
  exportMs: number;
  check: ConfigCheck;
  dotConfig: string;
  log: string;
}

interface TreeState {
  exported: boolean;
  /** Paths currently written over the export, with the hash of the content. */
  overlay: Record<string, string>;
  fragment?: string;
}

function readState(dir: string): TreeState {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as TreeState;
  } catch {
    return { exported: false, overlay: {} };
  }
}

function writeState(dir: string, s: TreeState): void {
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(s, null, 1));
}

/** Blobs of `commit` the repository does not have (partial snapshots): excluded from the export and named. */
async function missingBlobs(repo: string, commit: string): Promise<string[]> {
  const ls = (await gitText(repo, ['ls-tree', '-r', '-z', '--full-tree', commit])).split('\0').filter(Boolean);
  const blobs = ls
    .map((l) => {
      const tab = l.indexOf('\t');
      const [, type, obj] = l.slice(0, tab).split(' ');
      return { type, obj, p: l.slice(tab + 1) };
    })
    .filter((e) => e.type === 'blob');
  const out = await gitText(repo, ['cat-file', '--batch-check'], { input: blobs.map((b) => b.obj).join('\n') + '\n' });
  const missing = new Set(
    out
      .split('\n')
      .filter((l) => l.endsWith(' missing'))
      .map((l) => l.split(' ')[0]),
  );
  return blobs.filter((b) => missing.has(b.obj)).map((b) => b.p);
}

async function exportCommit(t: TreeSource, dst: string, progress: Progress, signal?: AbortSignal): Promise<string[]> {
  const missing = await missingBlobs(t.root, t.commit!);
  if (missing.length)
    progress(
      'export',
      `${missing.length} blob(s) absent from the repository, left out: ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ' …' : ''}`,
    );
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  const tar = path.join(path.dirname(dst), 'export.tar');
  try {
    await gitRun(t.root, ['archive', '--format=tar', '-o', tar, t.commit!, '--', '.', ...missing.map((p) => `:(exclude,literal)${p}`)], {
      signal,
    });
    await runProc('tar', ['-xf', tar, '-C', dst], { signal, nice: 10 });
  } finally {
    fs.rmSync(tar, { force: true });
  }
  return missing;
}

const contentHash = (s: string) => sha(Buffer.from(s, 'latin1'));

/** Bring the export to "commit + overlay": restore files the previous overlay changed, write the new ones (newer mtime, so make rebuilds them). */
async function applyOverlay(t: TreeSource, src: string, state: TreeState, overlay: Overlay): Promise<void> {
  const want = Object.fromEntries(Object.entries(overlay.files).map(([p, c]) => [p, contentHash(c)]));
  for (const p of Object.keys(state.overlay)) {
    if (want[p] === state.overlay[p]) continue;
    if (!(p in want)) {
      const orig = await gitRun(t.root, ['cat-file', 'blob', `${t.commit}:${p}`]).catch(() => null);
      const file = path.join(src, p);
      if (orig) fs.writeFileSync(file, orig);
      else fs.rmSync(file, { force: true });
    }
  }
  for (const [p, c] of Object.entries(overlay.files)) {
    if (state.overlay[p] === want[p]) continue;
    const file = path.join(src, p);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.from(c, 'latin1'));
  }
  state.overlay = want;
}

export interface BuildOptions {
  cache?: string;
  overlay?: Overlay;
  jobs?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Extra make variables (e.g. CC=gcc-12). */
  makeVars?: string[];
}

function toolchainId(): string {
  const cc = which('gcc') ?? 'gcc';
  try {
    return `${cc}:${fs.statSync(cc).size}`;
  } catch {
    return cc;
  }
}

export async function buildKernel(t: TreeSource, opts: BuildOptions = {}): Promise<BuildResult> {
  const progress = opts.progress ?? (() => undefined);
  const root = cacheRoot(opts.cache);
  const id = t.kind === 'git' ? t.commit! : sha(`dir:${t.root}:${contentHash(t.coreText)}`).slice(0, 40);
  const treeDir = path.join(root, 'trees', id);
  fs.mkdirSync(treeDir, { recursive: true });
  const fragment = configFragment(t.version);
  const overlay = opts.overlay ?? { files: {} };
  const overlayKey = Object.entries(overlay.files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([p, c]) => `${p}:${contentHash(c)}`)
    .join('\n');
  const key = sha([id, overlayKey, fragment, toolchainId(), (opts.makeVars ?? []).join(' ')].join('\n')).slice(0, 24);
  const imgDir = path.join(root, 'images', key);
  const bzImage = path.join(imgDir, 'bzImage');
  if (fs.existsSync(bzImage) && fs.existsSync(path.join(imgDir, 'config'))) {
    const dotConfig = fs.readFileSync(path.join(imgDir, 'config'), 'utf8');
    progress('build', `kernel ${t.release} cached (${key})`);
    return {
      bzImage,
      key,
      cached: true,
      buildMs: 0,
      configMs: 0,
      exportMs: 0,
      check: checkConfig(dotConfig, t.version),
      dotConfig,
      log: '',
    };
  }
  const state = readState(treeDir);
  let src = t.root;
  let exportMs = 0;
  if (t.kind === 'git') {
    src = path.join(treeDir, 'src');
    const t0 = Date.now();
    if (!state.exported || !fs.existsSync(path.join(src, 'Makefile'))) {
      progress('export', `exporting ${t.commit!.slice(0, 12)} into the cache (git archive)`);
      state.exported = false;
      state.overlay = {};
      writeState(treeDir, state);
      await exportCommit(t, src, progress, opts.signal);
      state.exported = true;
      writeState(treeDir, state);
    }
    await applyOverlay(t, src, state, overlay);
    writeState(treeDir, state);
    exportMs = Date.now() - t0;
  } else if (Object.keys(overlay.files).length) {
    throw new Error('a plan can only be applied to a git tree (this source directory has no history)');
  }
  const build = path.join(treeDir, 'build');
  fs.mkdirSync(build, { recursive: true });
  const jobs = String(opts.jobs ?? Math.max(1, Math.min(os.cpus().length, 2)));
  const vars = ['HOSTCFLAGS=-fcommon', 'KCFLAGS=-Wno-error', ...(opts.makeVars ?? [])];
  const make = (args: string[], phase: 'config' | 'build') =>
    runProc('make', ['-C', src, `O=${build}`, ...vars, ...args], {
      signal: opts.signal,
      nice: 10,
      mergeStderr: true,
      onLine: (l) => {
        if (phase === 'build' && /^\s+(CC|LD|AR|AS)\s/.test(l)) progress('build', l.trim());
      },
    });
  const t1 = Date.now();
  if (state.fragment !== sha(fragment) || !fs.existsSync(path.join(build, '.config'))) {
    progress('config', `tinyconfig + fragment for ${t.version.join('.')}, olddefconfig`);
    await make(['tinyconfig'], 'config');
    fs.appendFileSync(path.join(build, '.config'), fragment);
    await make(['olddefconfig'], 'config');
    state.fragment = sha(fragment);
    writeState(treeDir, state);
  }
  const configMs = Date.now() - t1;
  const dotConfig = fs.readFileSync(path.join(build, '.config'), 'utf8');
  const check = checkConfig(dotConfig, t.version);
  progress(
    'build',
    `make -j${jobs} bzImage${t.kind === 'git' ? ` (${Object.keys(overlay.files).length} file(s) of the plan over ${t.commit!.slice(0, 12)})` : ''}`,
  );
  const t2 = Date.now();
  const r = await make([`-j${jobs}`, 'bzImage'], 'build');
  const buildMs = Date.now() - t2;
  fs.mkdirSync(imgDir, { recursive: true });
  fs.copyFileSync(path.join(build, 'arch', 'x86', 'boot', 'bzImage'), bzImage + '.tmp');
  fs.writeFileSync(path.join(imgDir, 'config'), dotConfig);
  fs.renameSync(bzImage + '.tmp', bzImage);
  return { bzImage, key, cached: false, buildMs, configMs, exportMs, check, dotConfig, log: r.stdout.slice(-4000) };
}

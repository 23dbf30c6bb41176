// dist/cli.js: the smallest possible first module. It picks the bundle a command line needs —
// dist/cli-detect.js (./detectMain: detection only) for `detect`, dist/cli-main.js (./main)
// for everything else — and runs it from a V8 code cache kept under ~/.cache, so a new
// process neither loads code it will not run nor recompiles the code it does.
//
// The cache is keyed by the bundle's size and mtime and by node's version and architecture;
// a stale or rejected entry is rewritten after the run. CONNTRACK_BACKPORT_CODE_CACHE=0 turns
// it off (the cold-start bench measures both). A bundle that uses import() is loaded with
// plain require (vm.Script has no loader for it on node 20).

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

type Entry = {
  main(argv: string[]): Promise<number>;
  accepts?(rest: string[]): boolean;
};

function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'conntrack-backport', 'v8');
}

function writeCache(file: string, data: Buffer, stale: string[]): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
    for (const s of stale) fs.rmSync(s, { force: true });
  } catch {
    /* a read-only home: run uncached */
  }
}

function load(name: string): Entry {
  const file = path.join(__dirname, name);
  const st = fs.statSync(file);
  const src = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '');
  if (process.env.CONNTRACK_BACKPORT_CODE_CACHE === '0' || /\bimport\(/.test(src)) return createRequire(__filename)(file) as Entry;
  const base = path.basename(name, '.js');
  const dir = cacheDir();
  const cacheFile = path.join(dir, `${base}-${st.size}-${Math.floor(st.mtimeMs)}-${process.version}-${process.arch}.bin`);
  let cached: Buffer | undefined;
  try {
    cached = fs.readFileSync(cacheFile);
  } catch {
    cached = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${src}\n})`, {
    filename: file,
    cachedData: cached,
  });
  const mod = { exports: {} as Entry, filename: file, id: file, loaded: false };
  (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, __dirname);
  mod.loaded = true;
  if (!cached || script.cachedDataRejected)
    // After the run, so that the functions it compiled lazily are in the cache too.
    process.once('exit', () => {
      let stale: string[] = [];
      try {
        stale = fs
          .readdirSync(dir)
          .filter((f) => f.startsWith(`${base}-`) && f !== path.basename(cacheFile))
          .map((f) => path.join(dir, f));
      } catch {
        /* no directory yet */
      }
      writeCache(cacheFile, script.createCachedData(), stale);
    });
  return mod.exports;
}

const argv = process.argv.slice(2);
let entry: Entry | undefined;
if (argv[0] === 'detect') {
  // One parse of a few files: V8's baseline wasm compiler alone finishes it sooner than tiering
  // up the grammar's 600 KB module in background threads (bench/detectCold.bench.ts measures
  // it). Set before the first wasm compile; other commands (sweeps: many parses) keep tier-up.
  if (process.env.CONNTRACK_BACKPORT_WASM_TIERUP !== '1') v8.setFlagsFromString('--liftoff-only');
  const d = load('cli-detect.js');
  if (d.accepts?.(argv.slice(1))) entry = d;
}
(entry ?? load('cli-main.js')).main(argv).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`conntrack-backport: internal error: ${String((e as Error)?.message ?? e)}\n`);
    process.exitCode = 5;
  },
);

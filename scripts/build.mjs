// Bundles the extension, the simulation worker and the CLI with esbuild and ships the two tree-sitter wasm files
// beside the bundles. web-tree-sitter's ESM build breaks in a CJS bundle (import.meta.url),
// so it is aliased to its CJS build.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, chmodSync, cpSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const dist = path.join(root, 'dist');
mkdirSync(dist, { recursive: true });
const tsCjs = require.resolve('web-tree-sitter'); /* the require condition: web-tree-sitter.cjs */
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  alias: { 'web-tree-sitter': tsCjs },
  logLevel: 'warning',
};
// The webview pages (simulation, matrix) are browser code: typechecked against the DOM (tsconfig.page.json, which
// the node program excludes) and bundled as an iife the webview loads with its CSP nonce.
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.page.json')], { stdio: 'inherit' });
await Promise.all([
  build({ ...common, entryPoints: [path.join(root, 'src/extension.ts')], outfile: path.join(dist, 'extension.js'), external: ['vscode'] }),
  ...[
    ['src/simulation/page/main.ts', 'panel.js'],
    ['src/matrix/page/main.ts', 'matrix.js'],
  ].map(([entry, out]) =>
    build({
      entryPoints: [path.join(root, entry)],
      outfile: path.join(dist, out),
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      sourcemap: true,
      minify: common.minify,
      logLevel: 'warning',
    }),
  ),
  // The panel's runs execute in a worker thread (src/simulation/runner.ts) loaded from here.
  build({ ...common, entryPoints: [path.join(root, 'src/simulation/simWorker.ts')], outfile: path.join(dist, 'simWorker.js') }),
  // The CLI: dist/cli.js is a small launcher (src/cli/launch.ts) that runs `detect` from a
  // detection-only bundle and every other command from the full one, each from a V8 code cache.
  build({
    ...common,
    entryPoints: [path.join(root, 'src/cli/launch.ts')],
    outfile: path.join(dist, 'cli.js'),
    banner: { js: '#!/usr/bin/env node' },
  }),
  // import() lowered to require(): the launcher runs these through vm.Script, which has no
  // dynamic-import loader on node 20.
  ...[
    ['src/cli/main.ts', 'cli-main.js'],
    ['src/cli/detectMain.ts', 'cli-detect.js'],
  ].map(([entry, out]) =>
    build({ ...common, supported: { 'dynamic-import': false }, entryPoints: [path.join(root, entry)], outfile: path.join(dist, out) }),
  ),
  // The parallel Monte Carlo's worker (src/core/model/pool.ts finds it beside the CLI bundle).
  build({ ...common, entryPoints: [path.join(root, 'src/core/model/mcWorker.ts')], outfile: path.join(dist, 'mcWorker.js') }),
  // The sweep's detection workers (src/core/matrix/detectPool.ts finds them beside the bundle).
  build({ ...common, entryPoints: [path.join(root, 'src/core/matrix/detectWorker.ts')], outfile: path.join(dist, 'detectWorker.js') }),
]);
chmodSync(path.join(dist, 'cli.js'), 0o755);
copyFileSync(require.resolve('tree-sitter-c/tree-sitter-c.wasm'), path.join(dist, 'tree-sitter-c.wasm'));
copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), path.join(dist, 'web-tree-sitter.wasm'));
// The test plan's C reproducers and guest scripts, compiled and run at run time (src/core/testplan).
for (const d of ['repro', 'guest']) cpSync(path.join(root, 'src/core/testplan', d), path.join(dist, 'testplan', d), { recursive: true });

// Detection benchmark: median warm time per file and cold time (new process, wasm load
// included) over a ~2,800-line generated nf_conntrack_core.c, each beside a naive baseline
// measured in the same run: a full-file tree-sitter parse followed by the same signatures.
//
//   npm run bench            (targets: warm median <= 5 ms, cold <= 300 ms)

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectText } from '../src/core/detect';
import { normalizeTokens } from '../src/core/detect/normalize';
import { FunctionSite, SIGNATURES } from '../src/core/detect/signatures';
import { generateConntrackCore } from '../src/core/fixtures/generate';
import { kernelPrepass } from '../src/core/parse/prepass';
import { LineMap, locateFunctions } from '../src/core/parse/locate';
import { definitionName, getParser, parsePrepassed } from '../src/core/parse/treesitter';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number): string => `${ms.toFixed(2)} ms`;

/** The straightforward design: parse the whole file with tree-sitter every time. */
async function naiveDetect(text: string): Promise<number> {
  const parser = await getParser();
  const tree = parsePrepassed(parser, kernelPrepass(text));
  const located = locateFunctions(text, new LineMap(text));
  let hits = 0;
  for (const def of tree.rootNode.descendantsOfType('function_definition')) {
    if (!def) continue;
    const name = definitionName(def)?.text;
    const fn = located.find((f) => f.name === name);
    if (!fn) continue;
    const site: FunctionSite = { fn, text: def.text, tokens: normalizeTokens(def.text), tree: def, parseErrors: def.hasError };
    for (const s of SIGNATURES) if (s.functions.includes(fn.name) && s.match(site)) hits++;
  }
  tree.delete();
  return hits;
}

async function main(): Promise<void> {
  const f = generateConntrackCore({ era: '6.13', race2: 'upstream', zone: true, noise: ['vendor', 'ifdef'], seed: 42 });
  const lines = f.text.split('\n').length;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-bench-'));
  const file = path.join(dir, 'nf_conntrack_core.c');
  fs.writeFileSync(file, f.text);

  // warm: wasm loaded, JIT settled
  for (let i = 0; i < 20; i++) await detectText(f.text, file);
  const warm: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await detectText(f.text, file);
    warm.push(performance.now() - t);
  }
  for (let i = 0; i < 5; i++) await naiveDetect(f.text);
  const naive: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    await naiveDetect(f.text);
    naive.push(performance.now() - t);
  }

  // cold: a new node process running the bundled CLI, source layer only
  const cli = path.join(__dirname, '../../dist/cli.js');
  const coldRuns: number[] = [];
  const nodeOnly: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    execFileSync(process.execPath, [cli, 'detect', '--json', '--no-history', file], { stdio: 'pipe' });
    coldRuns.push(performance.now() - t);
    t = performance.now();
    execFileSync(process.execPath, ['-e', '0'], { stdio: 'pipe' });
    nodeOnly.push(performance.now() - t);
  }

  const warmMed = median(warm);
  const coldMed = median(coldRuns);
  console.log(`detection benchmark: generated nf_conntrack_core.c, ${lines} lines, era 6.13 + vendor/ifdef noise`);
  console.log('');
  console.log('                                   measured      baseline (full-file tree-sitter parse + same signatures)');
  console.log(
    `warm median per file (200 runs)    ${fmt(warmMed).padEnd(13)} ${fmt(median(naive))}   target <= 5 ms: ${warmMed <= 5 ? 'met' : 'NOT met'}`,
  );
  console.log(
    `cold, new process (median of 5)    ${fmt(coldMed).padEnd(13)} node startup alone ${fmt(median(nodeOnly))}   target <= 300 ms: ${coldMed <= 300 ? 'met' : 'NOT met'}`,
  );
  console.log(`warm p90                           ${fmt([...warm].sort((a, b) => a - b)[Math.floor(warm.length * 0.9)])}`);
  fs.rmSync(dir, { recursive: true });
}

void main();

// The panel's split: the page renders only (no model code in its bundle, no innerHTML, no
// inline styles the CSP would block), and the host-side logic is testable without an editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const sim = path.join(__dirname, '../../../src/simulation');
const read = (f: string) => fs.readFileSync(path.join(sim, f), 'utf8');
const valueImports = (t: string) => [...t.matchAll(/^import (?!type )[^;]*?from ['"]([^'"]+)['"]/gm)].map((m) => m[1]);

test('page code imports values only from the page folder and the shared page runtime, types only from the protocol', () => {
  for (const f of fs.readdirSync(path.join(sim, 'page'))) {
    const t = read(path.join('page', f)).replace(/^\s*\/\/.*$/gm, ''); // comments may name what is banned
    for (const spec of valueImports(t))
      assert.ok(spec.startsWith('./') || spec.startsWith('../../webview/page/'), `${f} imports ${spec} as a value`);
    assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML/.test(t), `${f} writes HTML`);
    assert.ok(!/setAttribute\(['"]style|\.style\b|'style':|\bstyle:/.test(t), `${f} sets inline styles`);
  }
  assert.deepEqual(valueImports(read('protocol.ts')), [], 'protocol.ts is types and constants only');
});

test('host-side pure modules have no vscode import', () => {
  for (const f of ['shape.ts', 'run.ts', 'runner.ts', 'simWorker.ts', 'sources.ts', 'evidence.ts', 'protocol.ts']) {
    assert.ok(!/from ['"]vscode['"]/.test(read(f)), f);
  }
});

// The architecture's one rule: src/core never depends on the editor.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('src/core imports neither vscode nor the adapters outside core', () => {
  const core = path.join(__dirname, '../../../src/core');
  const files = tsFiles(core);
  assert.ok(files.length > 10);
  const offenders = files.filter((f) => {
    const t = fs.readFileSync(f, 'utf8');
    if (/from ['"]vscode['"]|require\(['"]vscode['"]\)|import\(['"]vscode['"]\)/.test(t)) return true;
    // every relative import must resolve inside src/core
    return [...t.matchAll(/(?:from |import\()['"](\.{1,2}\/[^'"]*)['"]/g)].some((m) => !path.resolve(path.dirname(f), m[1]).startsWith(core + path.sep));
  });
  assert.deepEqual(offenders, []);
});

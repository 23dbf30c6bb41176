import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';

// The layering rule of scripts/eslint.config.mjs, run on small texts placed (virtually) where
// the rule applies: each broken layer must be reported, each allowed import must pass.
const root = path.resolve(__dirname, '../../..');

async function problems(file: string, text: string): Promise<string[]> {
  // eslint is ESM-only in its flat-config API surface used here; load it at run time.
  const { ESLint } = (await import('eslint')) as typeof import('eslint');
  const eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'scripts/eslint.config.mjs') });
  const [r] = await eslint.lintText(text, { filePath: path.join(root, file) });
  return r.messages
    .filter((m) => m.ruleId === 'layers/boundaries' || m.ruleId === 'no-restricted-imports')
    .map((m) => `${m.ruleId}: ${m.message}`);
}

test('core may not import vscode or anything outside src/core', async () => {
  assert.match(
    (await problems('src/core/detect/x.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).join(),
    /must not import vscode/,
  );
  assert.match(
    (await problems('src/core/detect/x.ts', "import { CMD } from '../../ids';\nexport const a = CMD;\n")).join(),
    /core imports only core/,
  );
  assert.match((await problems('src/core/x.ts', "export { a } from '../extension';\n")).join(), /core imports only core/);
  assert.deepEqual(
    await problems(
      'src/core/detect/x.ts',
      "import { CATALOGUE } from '../catalogue';\nimport * as fs from 'node:fs';\nexport const a = [CATALOGUE, fs];\n",
    ),
    [],
  );
});

test('page code imports only its folder and the feature protocol/state', async () => {
  assert.match(
    (await problems('src/matrix/page/x.ts', "import { CMD } from '../../ids';\nexport const a = CMD;\n")).join(),
    /page code may import/,
  );
  assert.match(
    (await problems('src/matrix/page/x.ts', "import { x } from '../panel';\nexport const a = x;\n")).join(),
    /page code may import/,
  );
  assert.match(
    (await problems('src/simulation/page/x.ts', "import * as fs from 'node:fs';\nexport const a = fs;\n")).join(),
    /no node module/,
  );
  assert.match(
    (await problems('src/simulation/protocol.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).join(),
    /must not import vscode/,
  );
  assert.match(
    (await problems('src/matrix/protocol.ts', "import { webviewPage } from '../webview/shell';\nexport const a = webviewPage;\n")).join(),
    /shared with the page/,
  );
  assert.deepEqual(
    await problems(
      'src/matrix/page/x.ts',
      "import type { A } from '../protocol';\nimport { B } from '../state';\nimport { h } from './dom';\nexport const a = [B, h] as unknown as A;\n",
    ),
    [],
  );
});

test('pure host helpers never import vscode; child_process only in the git port', async () => {
  assert.match(
    (await problems('src/detection/presentation.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).join(),
    /must not import vscode/,
  );
  assert.match(
    (await problems('src/detection/service.ts', "import { spawn } from 'node:child_process';\nexport const a = spawn;\n")).join(),
    /runs through the port/,
  );
  assert.match(
    (await problems('src/core/fixtures/x.ts', "import { spawn } from 'child_process';\nexport const a = spawn;\n")).join(),
    /runs through the port/,
  );
  assert.deepEqual(await problems('src/core/git/x.ts', "import { spawn } from 'node:child_process';\nexport const a = spawn;\n"), []);
});

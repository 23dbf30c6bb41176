// Mocha entry point run inside a VS Code extension host: by @vscode/test-electron on a
// desktop (test/extension/runTest.ts) and by code-server in CI (scripts/ext-host-test.mjs).
// Loads the *.test.js beside this file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000 });
  // An untrusted workspace (scripts/ext-host-test.mjs --restricted) runs only the Restricted
  // Mode suite; a trusted one (or trust disabled) runs everything else.
  const restricted = !vscode.workspace.isTrusted;
  for (const f of fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js') && (f === 'restricted.test.js') === restricted)
    .sort()) {
    mocha.addFile(path.join(__dirname, f));
  }
  console.log('EXT_BEGIN'); // the code-server runner shows the console from here on
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const { passes = 0, failures: failed = 0 } = runner.stats ?? {};
      // The code-server runner reads this marker from the forwarded console to print its
      // closing line; the count is also what test-electron users see.
      console.log(`EXT_RESULT ${JSON.stringify({ passed: passes, failed })}`);
      if (failures > 0) reject(new Error(`${failures} extension test(s) failed`));
      else resolve();
    });
  });
}

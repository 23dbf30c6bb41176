// Desktop runner: downloads VS Code and runs the suite with @vscode/test-electron.
// Needs internet (not available in CI here, where scripts/ext-host-test.mjs runs the same
// suite in code-server). Usage: npm run build && npm run compile-tests && node out/test/extension/runTest.js
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const { makeKernelWorkspace } = await import(path.join(root, 'test/support/workspace.mjs'));
  const workspace: string = makeKernelWorkspace();
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

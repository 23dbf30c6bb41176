// Runs the mocha suite in test/extension/suite inside code-server's real node extension
// host: the workbench URL's `payload` plays the role of --extensionDevelopmentPath /
// --extensionTestsPath (which code-server's CLI rejects). The workbench reports the end
// through window.codeAutomationExit and forwards the host's console via codeAutomationLog.
// Needs: npm run build && npm run compile-tests. Prints `ext: N passed, N failed`.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { fileURLToPath } from 'node:url';
import { makeProfile, startCodeServer } from './code-server.mjs';
import { launchBrowser } from './browser.mjs';
import { makeKernelWorkspace } from '../test/support/workspace.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Opens `folder` in code-server with the extension under development and runs the suite at
 * `testsPath` (a CommonJS module exporting run()). `profile` (scripts/code-server.mjs) may carry
 * installed extensions. Resolves { code, passed, failed, lines } — reused by the bench.
 */
export async function runInExtensionHost({ folder, testsPath, profile, timeoutMs = 120_000, echo = true, env }) {
  const cs = await startCodeServer({ folder, profile });
  const { context, close } = await launchBrowser();
  const lines = [];
  const preamble = [];
  let result = null;
  try {
    const page = await context.newPage();
    let exit;
    const exited = new Promise((r) => {
      exit = r;
    });
    await page.exposeFunction('codeAutomationExit', (code) => {
      exit(code);
    });
    // Until the suite says EXT_BEGIN the console is the workbench's own chatter (offline
    // gallery errors and such): keep it, but only show it if the run fails.
    let begun = false;
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      for (const line of text.split('\n')) {
        const m = /^EXT_RESULT (\{.*\})$/.exec(line.trim());
        if (m) {
          result = JSON.parse(m[1]);
          continue;
        }
        if (line.trim() === 'EXT_BEGIN') {
          begun = true;
          continue;
        }
        (begun ? lines : preamble).push(line);
        if (echo && begun) console.log(line);
      }
    });
    const remote = (p) => `vscode-remote://${cs.authority}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(root)],
      ['extensionTestsPath', remote(testsPath)],
    ];
    if (env) payload.push(['extensionEnvironment', JSON.stringify(env)]);
    const url = `${cs.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    let timer;
    const code = await Promise.race([
      exited,
      new Promise((r) => {
        timer = setTimeout(() => r('timeout'), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const r = {
      code: code === 'timeout' ? 1 : code,
      timedOut: code === 'timeout',
      passed: result?.passed ?? 0,
      failed: result?.failed ?? 0,
      lines,
    };
    if (echo && !result) console.log(`--- workbench console before the suite started ---\n${preamble.join('\n')}`);
    return r;
  } finally {
    await close();
    await cs.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `--restricted`: workspace trust on, the folder (a git checkout) untrusted, only the
  // Restricted Mode suite. Without it: trust off, every other suite.
  const restricted = process.argv.includes('--restricted');
  const started = Date.now();
  const folder = makeKernelWorkspace({ git: restricted });
  const r = await runInExtensionHost({
    folder,
    testsPath: path.join(root, 'out/test/extension/suite/index.js'),
    profile: restricted ? makeProfile('cb-cs-', { trust: true }) : undefined,
  });
  rmSync(folder, { recursive: true, force: true });
  if (r.timedOut) console.error('ext: timed out waiting for the extension host to finish');
  // A crash before mocha reports leaves no counts: make that a visible failure.
  const failed = r.failed || (r.code !== 0 && r.failed === 0 ? 1 : 0);
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`ext: ${r.passed} passed, ${failed} failed`);
  process.exit(r.code === 0 && failed === 0 && r.passed > 0 ? 0 : 1); // zero tests run is a broken harness, not a pass
}

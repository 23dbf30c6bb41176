// UI test: the packaged .vsix installed into a fresh code-server, driven through the
// workbench with Playwright like a user would. Each check is a named step; add yours with
// steps.push({ name, run: async (page, ctx) => { ... } }) — throw to fail. A step's failure
// is recorded and the run goes on (later steps may then fail too), with a screenshot per step
// in test-results/ui/. Needs: npm run package. Prints `ui: N passed, N failed`.
import assert from 'node:assert/strict';
import { mkdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installExtension, listExtensions, makeProfile, startCodeServer } from '../../scripts/code-server.mjs';
import { launchBrowser } from '../../scripts/browser.mjs';
import { CORE_FILE, makeDemoWorkspace } from '../support/workspace.mjs';
import { simulationSteps } from './steps/simulation.mjs';
import { realTreeSteps } from './steps/realTree.mjs';
import { testPlanSteps } from './steps/testplan.mjs';
import { mitigationSteps } from './steps/mitigations.mjs';
import { matrixSteps } from './steps/matrix.mjs';
import { goToLine, quickOpen, runFromPalette } from './helpers.mjs';
import { writeFileSync } from 'node:fs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const EXTENSION_ID = `${pkg.publisher}.${pkg.name}`;
const VSIX = path.join(root, process.env.VSIX ?? 'conntrack-backport.vsix');
const SHOTS = path.join(root, 'test-results/ui');

export { goToLine, quickOpen, runFromPalette } from './helpers.mjs';

// Steps run in order on one page. Example for later (lenses on the open core file):
//   steps.push({ name: 'lenses show verdicts', run: async (page) => {
//     await page.locator('.codelens-decoration a', { hasText: 'race' }).first().waitFor(); } });
export const steps = [];

steps.push({
  name: 'workbench loads',
  run: async (page) => {
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // Settled = the explorer lists the tree and the git extension found the repository.
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'net' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.part.statusbar', { hasText: 'master' }).waitFor({ timeout: 30_000 });
  },
});

steps.push({
  name: 'the vsix is installed',
  run: async (page, ctx) => {
    assert.ok(
      ctx.installed.some((e) => e.startsWith(`${EXTENSION_ID}@${pkg.version}`)),
      `--list-extensions: ${ctx.installed.join(', ')}`,
    );
    // And the workbench sees it (Extensions view, installed filter).
    await runFromPalette(page, 'View: Show Extensions');
    const search = page.locator('.extensions-viewlet .suggest-input-container');
    await search.click();
    await page.keyboard.type(`@installed ${pkg.displayName}`);
    await page.locator('.extensions-viewlet .extension-list-item', { hasText: pkg.displayName }).first().waitFor({ timeout: 20_000 });
  },
});

steps.push({
  name: `${path.basename(CORE_FILE)} opens in an editor`,
  run: async (page) => {
    await runFromPalette(page, 'View: Show Explorer'); // the view a user has beside the file
    await quickOpen(page, CORE_FILE);
    await page.locator('.editor-instance .view-lines', { hasText: 'SPDX-License-Identifier' }).waitFor();
  },
});

steps.push({
  name: 'code lenses show the race verdicts',
  run: async (page, ctx) => {
    // The resolver sits far down the file; monaco only renders lines near the viewport, so go
    // to it first (there is no C symbol provider in a bare code-server, hence Go to Line).
    const lines = readFileSync(path.join(ctx.folder, CORE_FILE), 'utf8').split('\n');
    await goToLine(page, lines.findIndex((l) => /^nf_ct_resolve_clash\(|^static int nf_ct_resolve_clash\(/.test(l)) + 1);
    // The demo tree carries the azure postings: race 1 has the ed07d9a021df code, race 2 the
    // non-upstream 952939 shape, race 3 nothing.
    // History names the posting: the code equals ed07d9a021df, the commit is the azure one.
    await page
      .locator('.codelens-decoration a:visible', { hasText: 'Race 1: fixed — azure 937963 (pre-upstream' })
      .first()
      .waitFor({ timeout: 20_000 });
    await page.locator('.codelens-decoration a:visible', { hasText: 'Race 3: missing' }).first().waitFor();
  },
});

steps.push({
  name: 'palette: Detect Race Fixes shows a report',
  run: async (page) => {
    await runFromPalette(page, 'Conntrack Backport: Detect Race Fixes in This Tree');
    await page.locator('.notifications-toasts', { hasText: 'Race 3 missing' }).waitFor({ timeout: 20_000 });
    await page.locator('.tabs-container .tab.active', { hasText: 'conntrack-report' }).waitFor();
    // The report renders in the Markdown preview, a webview (iframe in an iframe).
    const preview = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await preview.locator('body', { hasText: 'Fixed by azure 937963 (pre-upstream' }).waitFor({ timeout: 20_000 });
  },
});

steps.push({
  name: 'palette: Plan Revert-then-Cherry-Pick shows the plan and the predicted diff',
  run: async (page) => {
    await page.keyboard.press('Escape');
    await runFromPalette(page, 'Conntrack Backport: Plan Revert-then-Cherry-Pick');
    // The predicted diff opens in VS Code's diff editor (nothing in the tree changes)...
    await page.locator('.tabs-container .tab.active', { hasText: 'after the backport (predicted)' }).waitFor({ timeout: 60_000 });
    await page.locator('.monaco-diff-editor').first().waitFor();
    await page.locator('.notifications-toasts', { hasText: 'Backport plan' }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(SHOTS, 'backport-diff.png') });
    // ...beside the plan document: reverts of the azure commits, then the two upstream picks.
    await page.locator('.tabs-container .tab', { hasText: 'backport-plan' }).click();
    const preview = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await preview.locator('body', { hasText: 'Revert' }).first().waitFor({ timeout: 20_000 });
    await preview.locator('body', { hasText: 'ed07d9a021df' }).first().waitFor();
  },
});

steps.push({
  name: 'simulation panel renders without CSP violations',
  run: async (page, ctx) => {
    await page.keyboard.press('Escape');
    // In the azure demo tree races 1 and 2 are closed already; race 3 (DNAT to a Service VIP) is
    // what still drops before and after the backport.
    await simulationSteps(page, { ...ctx, scenario: 'dns-vip', scenarioTitle: 'Service VIP' });
  },
});

// The panel's DNAT / mitigation knobs and the workaround card (test/ui/steps/mitigations.mjs).
steps.push({ name: 'simulation panel: mitigation knobs and "Can I drop my workaround?"', run: (page) => mitigationSteps(page) });

// The matrix panel: live progress, the page's Cancel, the full sweep, both themes (test/ui/steps/matrix.mjs).
steps.push(...matrixSteps);

steps.push({
  name: 'the extension is running (palette: Show Running Extensions)',
  run: async (page) => {
    await runFromPalette(page, 'Developer: Show Running Extensions');
    await page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: pkg.displayName }).first().waitFor({ timeout: 20_000 });
  },
});

// A real-sized tree in a second window (test/ui/steps/realTree.mjs).
steps.push(...realTreeSteps);

// Run Test Plan in a VM on the same real tree, cancelled (test/ui/steps/testplan.mjs).
steps.push(...testPlanSteps);

async function main() {
  assert.ok(existsSync(VSIX), `${VSIX} missing: run npm run package`);
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const started = Date.now();
  const profile = makeProfile('cb-ui-');
  installExtension(profile, VSIX);
  const demo = await makeDemoWorkspace();
  const folder = demo.folder;
  // What a user with an upstream mirror sets: the remote's ids of the two upstream commits.
  const settingsFile = path.join(profile.userData, 'User/settings.json');
  writeFileSync(
    settingsFile,
    JSON.stringify(
      {
        ...JSON.parse(readFileSync(settingsFile, 'utf8')),
        'conntrackBackport.commitOverrides': demo.overrides,
        'conntrackBackport.bugNumber': '1836816',
        'conntrackBackport.signOff': 'Demo Maintainer <maintainer@example.invalid>',
      },
      null,
      2,
    ),
  );
  const cs = await startCodeServer({ folder, profile });
  const { context, close } = await launchBrowser();
  const ctx = { folder, cs, installed: listExtensions(profile) };
  let passed = 0,
    failed = 0;
  try {
    const page = await context.newPage();
    await page.goto(`${cs.url}/?folder=${encodeURIComponent(folder)}`);
    // UI_ONLY=regex runs the matching steps only (while working on them; CI runs all).
    const only = process.env.UI_ONLY ? new RegExp(process.env.UI_ONLY) : undefined;
    for (const [i, step] of steps.entries()) {
      if (only && !only.test(step.name)) continue;
      const t = Date.now();
      try {
        await step.run(page, ctx);
        passed++;
        console.log(`  ✔ ${step.name} (${Date.now() - t} ms)`);
      } catch (err) {
        failed++;
        console.log(
          `  ✘ ${step.name}\n    ${String(err?.message ?? err)
            .split('\n')
            .join('\n    ')}`,
        );
      }
      const shot = path.join(
        SHOTS,
        `${String(i + 1).padStart(2, '0')}-${step.name
          .replace(/[^a-z0-9]+/gi, '-')
          .replace(/-$/, '')
          .toLowerCase()}.png`,
      );
      await page.screenshot({ path: shot }).catch(() => {});
      await page.keyboard.press('Escape').catch(() => {}); // leave no quick input open for the next step
    }
  } finally {
    await close();
    await cs.stop();
    rmSync(demo.root, { recursive: true, force: true });
  }
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s, screenshots in ${path.relative(root, SHOTS)}/)`);
  console.log(`ui: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      console.log('ui: 0 passed, 1 failed');
      process.exit(1);
    },
  );
}

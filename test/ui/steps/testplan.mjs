// UI step for "Run Test Plan in a VM" on a real tree: Debian's linux-source-6.1 (the extraction
// the real-tree steps and the test-plan CI stage share) opened in its own window. Opens the
// simulation panel, starts the command from the panel's button, picks the quick check, waits
// for progress (figures so far from the VM when the kernel is in the cache; the build's progress
// when it is not, which then never gets far: nothing is built in full here), screenshots the
// notification and the panel's card (test-results/ui/testplan-progress.png), presses the card's
// Cancel and checks that the editor says so and no qemu or make of the test plan is left
// (testplan-cancelled.png). Hook: ui.test.mjs appends testPlanSteps to its steps.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianTree61 } from '../../support/linuxSource.mjs';
import { runFromPalette } from '../helpers.mjs';
import { simulationFrame } from './simulation.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SHOTS = path.join(root, 'test-results/ui');

/** Processes of a test plan on this machine: qemu booted with our parameters, make building into the cache. */
function testPlanProcesses() {
  const out = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ');
    } catch {
      continue;
    }
    if (/qemu-system.*ctb\.configs=/.test(cmd) || /^\S*make\b.*conntrack-backport\/testplan\/trees\//.test(cmd))
      out.push(`${pid}: ${cmd.slice(0, 120)}`);
  }
  return out;
}

export const testPlanSteps = [
  {
    name: 'Run Test Plan in a VM (real tree, as it is): progress through the stages, Cancel stops the VM and the build',
    run: async (page) => {
      assert.deepEqual(testPlanProcesses(), [], 'no test plan runs before the step');
      const tree = await debianTree61({ log: (m) => console.log(`    ${m}`) });
      const p = await page.context().newPage();
      try {
        await p.setViewportSize({ width: 1400, height: 900 });
        await p.goto(`${new URL(page.url()).origin}/?folder=${encodeURIComponent(tree)}`);
        await p.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
        await p.locator('.explorer-folders-view .monaco-list-row', { hasText: 'net' }).first().waitFor({ timeout: 60_000 });
        // The workbench lists our commands once it has read the extensions (slow on a loaded machine).
        for (let i = 0; ; i++) {
          try {
            await runFromPalette(p, 'Conntrack Backport: Open Simulation Panel', { timeout: 10_000 });
            break;
          } catch (e) {
            await p.keyboard.press('Escape');
            if (i >= 8) throw e;
          }
        }
        const frame = simulationFrame(p);
        const run = frame.locator('button#run-testplan');
        await run.waitFor({ timeout: 60_000 });
        await frame.locator('section#testplan').scrollIntoViewIfNeeded();
        await run.click();
        // The command asks what to run: the tree as it is (10,000 trials a configuration), long
        // enough that the Cancel always lands mid-run (the 300-trial quick check on a cached
        // kernel can finish in about 11 s, before the step presses Cancel).
        const quick = p.locator('.quick-input-list .monaco-list-row', { hasText: 'This tree as it is' });
        await quick.waitFor({ timeout: 20_000 });
        await quick.click();
        const toast = p.locator('.notifications-toasts .notification-toast', { hasText: 'Conntrack test plan' });
        await toast.waitFor({ timeout: 30_000 });
        const status = frame.locator('#testplan-status');
        // Figures so far from the VM when the kernel is cached; else the build's own progress.
        const t0 = Date.now();
        let text = '';
        let stage = '';
        while (Date.now() - t0 < 120_000) {
          text = (await status.textContent()) ?? '';
          stage = /^(Build|Boot|Run):/.exec(text)?.[1] ?? '';
          if (/^Run: so far/.test(text)) break;
          if (stage === 'Build' && /make|CC|LD|AR|building/i.test(text) && Date.now() - t0 > 15_000) break;
          await p.waitForTimeout(250);
        }
        assert.ok(stage, `the panel shows the stage while it runs: "${text}"`);
        const toastText = (await toast.textContent()) ?? '';
        assert.match(toastText, /(Build|Boot|Run):/, `the notification names the stage: "${toastText}"`);
        await frame.locator('button#cancel-testplan:not(.hidden)').waitFor({ timeout: 5000 });
        console.log(`    progress at ${((Date.now() - t0) / 1000).toFixed(1)} s: ${text}`);
        await p.screenshot({ path: path.join(SHOTS, 'testplan-progress.png') });
        const alive = testPlanProcesses();
        assert.ok(alive.length > 0, 'qemu or make runs while the stage is shown');
        await frame.locator('button#cancel-testplan').click();
        await p.locator('.notifications-toasts', { hasText: 'Test plan cancelled' }).waitFor({ timeout: 30_000 });
        await frame.locator('#testplan-status', { hasText: 'Cancelled' }).waitFor({ timeout: 10_000 });
        await frame.locator('button#run-testplan:not([disabled])').waitFor({ timeout: 10_000 });
        let left = testPlanProcesses();
        for (let i = 0; i < 20 && left.length; i++) {
          await p.waitForTimeout(250);
          left = testPlanProcesses();
        }
        await p.screenshot({ path: path.join(SHOTS, 'testplan-cancelled.png') });
        assert.deepEqual(left, [], `nothing of the test plan is left after Cancel (was: ${alive.join('; ')})`);
      } catch (e) {
        await p.screenshot({ path: path.join(SHOTS, 'testplan-failed.png') }).catch(() => {});
        throw e;
      } finally {
        await p.close();
      }
    },
  },
];

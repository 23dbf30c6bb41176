// Workbench helpers shared by the UI test and its step modules.
import path from 'node:path';

/** F1, type, pick the first matching row. */
export async function runFromPalette(page, label, { timeout } = {}) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout });
  await input.fill(`>${label}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout });
  await page.keyboard.press('Enter');
}

/** Ctrl+P, type the workspace-relative path, open it, wait for its tab to be active. */
export async function quickOpen(page, relPath) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(relPath);
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: path.basename(relPath) })
    .first()
    .waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: path.basename(relPath) }).waitFor();
}

/** Ctrl+G to a 1-based line; the editor reveals it in the middle. */
export async function goToLine(page, line) {
  if (line < 1) throw new Error('line not found');
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').fill(`:${line}`);
  await page.keyboard.press('Enter');
}

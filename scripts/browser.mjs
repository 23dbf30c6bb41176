// Debian's chromium driven by playwright-core (Playwright's own browser download is
// unreachable here). Flags keep it headless, offline-quiet and root-friendly.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function launchBrowser() {
  const userData = mkdtempSync(path.join(os.tmpdir(), 'cb-chromium-'));
  const context = await chromium.launchPersistentContext(userData, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(userData, { recursive: true, force: true });
  };
  return { context, close };
}

// UI steps for the matrix panel on the demo repository (hook: ui.test.mjs appends matrixSteps).
//  1. 400 extra tags (load-*, each with its own generated nf_conntrack_core.c) make a sweep long
//     enough to watch: the page shows done/total, refs/s and the ref it is at, and the page's own
//     Cancel button stops it (matrix-progress.png, matrix-cancelled.png).
//  2. The load tags are deleted and every branch and tag of the demo is swept from the page's
//     Sweep button: the table has a Race 4 column, header cells and verdicts are not clipped,
//     nothing overlaps, the table fits the panel, and every text is readable on its background
//     (WCAG contrast) in the workbench's theme (matrix-light.png in the default profile).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFromPalette } from '../helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SHOTS = path.join(root, 'test-results/ui');
const require = createRequire(import.meta.url);
const CORE = 'net/netfilter/nf_conntrack_core.c';
const LOAD_TAGS = 400;

/** The matrix panel's document (the workbench wraps each webview in two iframes). */
const matrixFrame = (page) =>
  page.frameLocator('iframe.webview.ready[src*="extensionId=conntrack-backport"]').frameLocator('iframe#active-frame');

async function addLoadTags(repo) {
  const { FastImportWriter } = require(path.join(root, 'out/src/core/fixtures/fastimport.js'));
  const { generateConntrackCore } = require(path.join(root, 'out/src/core/fixtures/generate.js'));
  const w = new FastImportWriter();
  let head;
  for (let i = 0; i < LOAD_TAGS; i++) {
    const text = generateConntrackCore({ era: i % 2 ? '5.10' : '4.19', race1: 'upstream', race2: 'upstream', seed: 500 + i }).text;
    head = w.commit({
      ref: 'refs/heads/load',
      ...(head === undefined ? {} : { from: head }),
      files: { [CORE]: text },
      message: `load ${i}\n`,
      time: 1_500_000_000 + i * 100,
    });
    w.tag(`load-${i}`, head);
  }
  await w.run(repo); // into the demo repository: git init on it only re-initializes
}

function deleteLoadRefs(repo) {
  const refs = execFileSync('git', ['-C', repo, 'for-each-ref', '--format=%(refname)', 'refs/tags/load-*', 'refs/heads/load'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  execFileSync('git', ['-C', repo, 'update-ref', '--stdin'], { input: refs.map((r) => `delete ${r}\n`).join('') });
}

/**
 * What a user would find wrong in the drawn table: clipped header or cell text, the sticky
 * header over the controls, verdict text too faint for its background (WCAG contrast < 4.5).
 */
async function layoutProblems(frame) {
  return frame.locator('body').evaluate((body) => {
    const doc = body.ownerDocument;
    const css = (e) => doc.defaultView.getComputedStyle(e);
    const problems = [];
    const rgb = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const contrast = (a, b) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    /** The first non-transparent background from el up. */
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = css(e).backgroundColor;
        const v = rgb(c);
        if (v.length === 3 || (v.length === 4 && v[3] > 0)) return v.slice(0, 3);
      }
      return rgb(css(doc.documentElement).backgroundColor).slice(0, 3);
    };
    for (const el of doc.querySelectorAll('th, td, #status, #notice:not(.hidden), #progress-text, button')) {
      if (el.offsetParent === null && el.tagName !== 'TH') continue;
      if (el.scrollWidth > el.clientWidth + 1) problems.push(`clipped: ${el.tagName} "${el.textContent.trim().slice(0, 40)}"`);
      if (!el.textContent.trim()) continue;
      const target = el.querySelector('a') ?? el;
      const ratio = contrast(rgb(css(target).color).slice(0, 3), background(el));
      // Greyed rows (a ref with no file) are meant to be quieter, but still legible.
      const min = el.closest('tr.row-absent, tr.row-no-commit, tr.row-not-kernel') || el.disabled ? 3 : 4.5;
      if (ratio < min)
        problems.push(`contrast ${ratio.toFixed(2)} < ${min}: ${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}"`);
    }
    const page = doc.documentElement;
    if (page.scrollWidth > page.clientWidth + 1) problems.push(`wider than the panel: ${page.scrollWidth} > ${page.clientWidth} px`);
    const bar = doc.querySelector('header.bar').getBoundingClientRect();
    const head = doc.querySelector('thead').getBoundingClientRect();
    if (head.top < bar.bottom - 1) problems.push(`table header (top ${head.top}) under the controls (bottom ${bar.bottom})`);
    const buttons = [...doc.querySelectorAll('header.bar > *')]
      .filter((e) => e.offsetParent !== null)
      .map((e) => e.getBoundingClientRect());
    for (let i = 0; i < buttons.length; i++)
      for (let j = i + 1; j < buttons.length; j++) {
        const [a, b] = [buttons[i], buttons[j]];
        if (a.width && b.width && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
          problems.push(`controls ${i} and ${j} overlap`);
      }
    return problems;
  });
}

export const matrixSteps = [
  {
    name: 'matrix: a long sweep shows live progress and the page Cancel stops it',
    run: async (page, ctx) => {
      await addLoadTags(ctx.folder);
      await runFromPalette(page, 'View: Close All Editors');
      await page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } }); // focus back to the workbench
      await runFromPalette(page, 'Conntrack Backport: Show Backport Matrix');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      await input.fill('load-*');
      await page.keyboard.press('Enter');
      const frame = matrixFrame(page);
      const text = frame.locator('#progress-text');
      await text.filter({ hasText: /detecting blob/ }).waitFor({ timeout: 60_000 });
      const said = await text.textContent();
      assert.match(said, new RegExp(`\\d+/${LOAD_TAGS} refs`), `done/total refs: ${said}`);
      assert.match(said, /refs\/s/, `the rate: ${said}`);
      assert.match(said, /at load-\d+/, `the ref it is at: ${said}`);
      const cancel = frame.locator('#cancel');
      assert.ok(await cancel.isVisible(), 'Cancel is shown while the sweep runs');
      assert.ok(await frame.locator('#progress-bar').isVisible());
      await page.screenshot({ path: path.join(SHOTS, 'matrix-progress.png') });
      await cancel.click();
      await frame.locator('#notice', { hasText: 'Sweep cancelled.' }).waitFor({ timeout: 20_000 });
      assert.ok(!(await cancel.isVisible()), 'Cancel goes away');
      assert.ok(!(await frame.locator('#progress').isVisible()), 'the progress line goes away');
      assert.equal(await frame.locator('tbody tr').count(), 0, 'a cancelled sweep shows no table');
      // The notification's progress is gone too (the host's withProgress ended).
      await page.locator('.notifications-toasts', { hasText: 'Conntrack matrix' }).waitFor({ state: 'hidden', timeout: 10_000 });
      await page.screenshot({ path: path.join(SHOTS, 'matrix-cancelled.png') });
    },
  },
  {
    name: 'matrix: every demo ref swept from the page, Race 4 column, readable and unclipped',
    run: async (page, ctx) => {
      deleteLoadRefs(ctx.folder);
      const frame = matrixFrame(page);
      await frame.locator('#refs').fill('');
      await frame.locator('#rerun').click();
      await frame.locator('tbody tr', { hasText: 'Ubuntu-azure-4.15.0-1030.31' }).first().waitFor({ timeout: 60_000 });
      await frame.locator('tbody tr', { hasText: 'Ubuntu-azure-4.15.0-1000.1' }).first().waitFor();
      assert.equal(await frame.locator('tbody tr', { hasText: 'load-' }).count(), 0, 'the deleted load tags are gone');
      const heads = await frame.locator('thead th').allTextContents();
      const r4 = heads.findIndex((h) => h.startsWith('Race 4'));
      assert.ok(r4 > heads.findIndex((h) => h.startsWith('Race 3')), `a Race 4 column after Race 3: ${heads.join(', ')}`);
      const race4 = await frame.locator(`tbody tr td:nth-child(${r4 + 1})`).allTextContents();
      assert.ok(race4.length > 0 && race4.every((t) => t.trim() !== ''), `every row has a race 4 verdict: ${race4.join(', ')}`);
      // Sorting by race 4 and the race 4 filter work on the page.
      await frame.locator('thead th', { hasText: 'Race 4' }).click();
      await frame.locator('thead th.sorted', { hasText: 'Race 4' }).waitFor();
      await frame.locator('#only').selectOption('race4:missing');
      const missing = await frame.locator('tbody tr').count();
      const expected = race4.filter((t) => t.startsWith('missing')).length;
      assert.equal(missing, expected, 'the race 4 filter keeps the rows whose race 4 is missing');
      await frame.locator('#only').selectOption('');
      await frame.locator('thead th', { hasText: 'Ref' }).first().click();
      const theme = (await page.locator('.monaco-workbench.vs-dark').count()) > 0 ? 'dark' : 'light';
      assert.deepEqual(await layoutProblems(frame), [], `${theme} theme`);
      await page.screenshot({ path: path.join(SHOTS, `matrix-${theme}.png`) });
    },
  },
];

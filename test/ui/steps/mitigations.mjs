// UI step: the simulation panel's DNAT / mitigation knobs and the "Can I drop my workaround?"
// card (src/simulation/page/mitigations.ts). Runs after the simulation step (the panel is open):
// picks the round-robin DNAT scenario, opens the knobs, checks the mitigation controls are
// there and wired to the scenario (nth chosen), runs with the workaround check on, and reads the
// card: one row per mitigation, NodeLocal DNSCache still needed after the backport (race 3 drops
// every nth clash with both fixes). Saves test-results/ui/simulation-mitigations.png (+ -knobs).
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulationFrame } from './simulation.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SHOTS = path.join(root, 'test-results/ui');

export async function mitigationSteps(page) {
  const frame = simulationFrame(page);
  await frame.locator('h1', { hasText: 'Conntrack race simulation' }).waitFor({ timeout: 30_000 });
  await frame.locator('select#scenario').selectOption('dns-vip-nth');
  const details = frame.locator('details.knob-details');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  const box = frame.locator('fieldset#mitigation-knobs');
  await box.waitFor();
  assert.equal(await frame.locator('select#knob-dnatMode').inputValue(), 'nth', 'the nth scenario brings round-robin DNAT');
  for (const id of ['select#knob-libc', 'input#knob-nodeLocalDns', 'input#knob-tcDelayMs', 'input#workarounds'])
    assert.ok(await frame.locator(id).isVisible(), `${id} is shown`);
  assert.ok(await frame.locator('input#workarounds').isChecked(), 'the workaround check is on for a DNS scenario');
  assert.match((await details.locator('summary').textContent()) ?? '', /DNAT round-robin/, 'the knob summary names the DNAT mode');
  await box.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'simulation-mitigations-knobs.png') });
  await frame.locator('#trials').fill('20000');
  await frame.locator('button#run').click();
  await frame.locator('.result-head h2', { hasText: 'round-robin' }).first().waitFor({ timeout: 90_000 });
  await frame.locator('button#cancel[disabled]').waitFor({ timeout: 120_000 });
  const card = frame.locator('section#workarounds');
  await card.waitFor();
  const rows = card.locator('tbody tr');
  assert.equal(await rows.count(), 8, 'one row per mitigation');
  const nodeLocal = card.locator('tr[data-id="nodelocal"]');
  assert.match((await nodeLocal.textContent()) ?? '', /Keep it/, 'NodeLocal DNSCache still removes race-3 delays after the backport');
  const none = card.locator('tr[data-id="none"] td.num').first();
  assert.notEqual((await none.textContent())?.trim(), '0 %', 'without mitigation lookups are delayed');
  await card.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'simulation-mitigations.png') });
  // The card must not be clipped: its table fits the panel's width.
  const fits = await card.evaluate((el) => el.querySelector('table').scrollWidth <= el.clientWidth + 1);
  assert.ok(fits, 'the workaround table fits its card');
  // The checkboxes sit beside their labels (not above them).
  const beside = await box.evaluate((el) =>
    [...el.querySelectorAll('label.check')].every((l) => {
      const b = l.querySelector('input').getBoundingClientRect();
      const t = l.querySelector('span').getBoundingClientRect();
      return b.right <= t.left + 1 && Math.abs(b.top + b.height / 2 - (t.top + t.height / 2)) < t.height;
    }),
  );
  assert.ok(beside, 'each mitigation checkbox sits left of its label');
}

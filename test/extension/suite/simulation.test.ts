// The simulation panel inside a real editor: the command opens a webview tab of our view type,
// and the evidence import accepts text from another command (no clipboard or dialog needed).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'conntrack-backport.conntrack-backport';
const VIEW_TYPE = 'conntrackBackport.simulation';

const OLD_NODE = `cpu=0   \tfound=4601 invalid=2157 ignore=0 insert=0 insert_failed=74 drop=74 early_drop=0 error=0 search_restart=100
cpu=1   \tfound=7545 invalid=3952 ignore=0 insert=0 insert_failed=175 drop=175 early_drop=0 error=0 search_restart=159`;

async function waitFor<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function simulationTabs(): vscode.Tab[] {
  // The tab input's viewType carries a workbench prefix (mainThreadWebview-...).
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(VIEW_TYPE));
}

suite('simulation panel', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
  });

  suiteTeardown(async () => {
    for (const t of simulationTabs()) await vscode.window.tabGroups.close(t);
  });

  test('Open Simulation Panel creates one webview tab of our view type', async () => {
    await vscode.commands.executeCommand('conntrackBackport.openSimulation');
    const tab = await waitFor(() => simulationTabs()[0]);
    assert.equal(tab.label, 'Conntrack Simulation');
    await vscode.commands.executeCommand('conntrackBackport.openSimulation');
    assert.equal(simulationTabs().length, 1, 'a second open reveals the same panel');
  });

  test('the page says ready, then gets init first (the shared webview controller)', async () => {
    const api = vscode.extensions.getExtension<{ webviewEvents(): readonly { viewType: string; event: string; type?: string }[] }>(
      EXTENSION_ID,
    )!.exports;
    const events = () => api.webviewEvents().filter((e) => e.viewType.endsWith(VIEW_TYPE));
    await waitFor(() => events().some((e) => e.event === 'posted' && e.type === 'init'), 20_000);
    const ready = events().findIndex((e) => e.event === 'ready');
    const init = events().findIndex((e) => e.event === 'posted' && e.type === 'init');
    assert.ok(ready >= 0 && ready < init, JSON.stringify(events().slice(0, 5)));
    assert.equal(
      events().findIndex((e) => e.event === 'posted'),
      init,
      'nothing reaches the page before init',
    );
  });

  test('importStats with a text argument parses it and reads the counters', async () => {
    const view = await vscode.commands.executeCommand<{ format: string; summary: string; node: { rows: unknown[] } }>(
      'conntrackBackport.importStats',
      { text: OLD_NODE, source: 'test' },
    );
    assert.ok(view, 'the command returns what it shows');
    assert.equal(view.format, 'netlink');
    assert.equal(view.node.rows.length, 2);
    assert.match(view.summary, /unresolved/);
    assert.ok(simulationTabs().length === 1, 'shown in the panel');
  });

  test('importStats refuses text that is not conntrack statistics', async () => {
    const view = await vscode.commands.executeCommand('conntrackBackport.importStats', 'hello world');
    assert.equal(view, undefined);
  });

  test('the conntrack-output language is registered for the grammar', async () => {
    assert.ok((await vscode.languages.getLanguages()).includes('conntrack-output'));
    const doc = await vscode.workspace.openTextDocument({ language: 'conntrack-output', content: OLD_NODE });
    assert.equal(doc.languageId, 'conntrack-output');
  });
});

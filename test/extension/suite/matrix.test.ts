// The matrix panel inside a real editor, on a repository the project's generator writes (three
// tags: race 4 not in the tree, missing, fixed): the command opens the panel, the page says
// ready, and only then gets the target and the swept matrix (the controller's queue); the page
// acknowledges what it drew (`rendered`), so the suite sees the progress line and the race 4
// column on the page itself; hidden behind another editor its page is thrown away, and shown
// again it says ready once more and gets the matrix back without a new sweep. A sweep of many
// tags is cancelled from the page's Cancel (the message the button posts, through the same
// controller path): the page says so and never gets a matrix.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FastImportWriter } from '../../../src/core/fixtures/fastimport';
import { generateConntrackCore } from '../../../src/core/fixtures/generate';

const EXTENSION_ID = 'conntrack-backport.conntrack-backport';
const VIEW_TYPE = 'conntrackBackport.matrix';
const CORE = 'net/netfilter/nf_conntrack_core.c';

interface WebviewEvent {
  viewType: string;
  event: string;
  type?: string;
  text?: string;
}
interface Api {
  webviewEvents(): readonly WebviewEvent[];
  gitProcesses(): readonly { cwd: string; args: string[] }[];
  fromPage(viewType: string, raw: unknown): number;
}

async function waitFor<T>(probe: () => T | undefined | false, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

suite('matrix panel', () => {
  let api: Api;
  let tmp: string;
  let repo: string;
  const matrixEvents = (): WebviewEvent[] => api.webviewEvents().filter((e) => e.viewType.endsWith(VIEW_TYPE));

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<Api>(EXTENSION_ID)!.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cb-ext-matrix-'));
    repo = path.join(tmp, 'linux');
    const w = new FastImportWriter();
    const at = (era: '4.15' | '5.10' | '6.13', race4?: 'old' | 'fixed') =>
      generateConntrackCore({ era, race1: 'upstream', race2: 'upstream', seed: 4, ...(race4 ? { race4 } : {}) }).text;
    // One commit and tag per release, each on the one before.
    const releases = [
      { era: '4.15', time: 1_500_000_000 },
      { era: '5.10', race4: 'old', time: 1_600_000_000 },
      { era: '6.13', race4: 'fixed', time: 1_700_000_000 },
    ] as const;
    let head: number | undefined;
    for (const r of releases) {
      const name = `v${r.era}`;
      const race4 = 'race4' in r ? r.race4 : undefined;
      head = w.commit({
        ref: 'refs/heads/master',
        ...(head === undefined ? {} : { from: head }),
        files: { [CORE]: at(r.era, race4) },
        message: `${name}\n`,
        time: r.time,
      });
      w.tag(name, head, `${name}\n`, r.time + 10);
    }
    w.resetBranch('refs/heads/master', head!);
    await w.run(repo);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the page says ready before it gets anything, then the sweep of every tag', async () => {
    const before = matrixEvents().length;
    await vscode.commands.executeCommand('conntrackBackport.showMatrix', repo, ['tags']);
    const events = (): WebviewEvent[] => matrixEvents().slice(before);
    await waitFor(() => events().some((e) => e.event === 'posted' && e.type === 'matrix'), 'the matrix to reach the page');
    const ready = events().findIndex((e) => e.event === 'ready');
    const firstPost = events().findIndex((e) => e.event === 'posted');
    assert.ok(ready >= 0 && ready < firstPost, `ready comes first: ${JSON.stringify(events().slice(0, 6))}`);
    assert.equal(events()[ready].type, 'first');
    const posted = events()
      .filter((e) => e.event === 'posted')
      .map((e) => e.type);
    assert.equal(posted[0], 'target', 'the page learns the repository first (it keeps it for a reload)');
    assert.ok(posted.includes('progress'), `the sweep's progress reaches the page: ${posted.join(' ')}`);
    // The page drew them: a progress line with the phase's done/total and the refs answered.
    const drawn = (what: string): string[] =>
      events()
        .filter((e) => e.event === 'received' && e.type === 'rendered' && e.text !== undefined)
        .map((e) => e.text!)
        .filter((t) => (what === 'matrix') === t.includes('|'));
    const lines = await waitFor(() => drawn('progress').length > 0 && drawn('progress'), 'a progress line on the page');
    assert.ok(
      lines.some((l) => /\d+\/\d+ refs/.test(l)),
      `progress says refs done of all: ${lines.join(' / ')}`,
    );
    // The table on the page: a Race 4 column, with each tree's verdict.
    const table = await waitFor(() => drawn('matrix').at(-1), 'the table on the page');
    const [head, ...rows] = table.split('\n').map((l) => l.split('|'));
    const col = head.indexOf('Race 4');
    assert.ok(col > head.indexOf('Race 3') && head.indexOf('Race 3') > 0, `a Race 4 column after Race 3: ${head.join(', ')}`);
    const race4 = Object.fromEntries(rows.map((r) => [r[0], r[col]]));
    assert.deepEqual(race4, { 'v4.15': 'not in this tree', 'v5.10': 'missing', 'v6.13': 'fixed · nfqueue-2024' });
    assert.ok(
      api.gitProcesses().some((g) => g.cwd.startsWith(repo) || g.args.includes(repo)),
      'the sweep ran git in the repository',
    );
  });

  test('hidden behind an editor and shown again, the page reloads and gets the matrix back without a sweep', async () => {
    const matrixTab = (): vscode.Tab | undefined =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(VIEW_TYPE));
    const column = (await waitFor(matrixTab, 'the matrix tab')).group.viewColumn;
    const before = matrixEvents().length;
    const gitBefore = api.gitProcesses().length;
    const doc = await vscode.workspace.openTextDocument({ content: 'hide the matrix' });
    await vscode.window.showTextDocument(doc, { viewColumn: column, preview: false });
    await waitFor(() => matrixTab()?.isActive === false, 'the matrix to be hidden');
    // Bring the panel back the way a user does: close the editor in front of it.
    const front = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.isActive && t.group.viewColumn === column);
    assert.ok(front, 'the editor in front of the matrix');
    await vscode.window.tabGroups.close(front);
    const events = (): WebviewEvent[] => matrixEvents().slice(before);
    await waitFor(() => events().some((e) => e.event === 'ready' && e.type === 'reload'), 'the reloaded page to say ready', 20_000);
    await waitFor(() => events().some((e) => e.event === 'posted' && e.type === 'matrix'), 'the matrix again', 20_000);
    assert.equal(api.gitProcesses().length, gitBefore, 'no new sweep: the host still had the matrix');
  });
  test('Cancel on the page stops a running sweep: the page says so and gets no matrix', async function () {
    this.timeout(120_000);
    // Many tags, each with its own file: a sweep that is still detecting when Cancel comes.
    const big = path.join(tmp, 'many');
    const w = new FastImportWriter();
    let head: number | undefined;
    for (let i = 0; i < 300; i++) {
      const text = generateConntrackCore({ era: i % 2 ? '5.10' : '4.19', race1: 'upstream', race2: 'upstream', seed: 100 + i }).text;
      head = w.commit({
        ref: 'refs/heads/master',
        ...(head === undefined ? {} : { from: head }),
        files: { [CORE]: text },
        message: `r${i}\n`,
        time: 1_500_000_000 + i * 1000,
      });
      w.tag(`r${i}`, head, `r${i}\n`, 1_500_000_000 + i * 1000 + 10);
    }
    w.resetBranch('refs/heads/master', head!);
    await w.run(big);
    const before = matrixEvents().length;
    const events = (): WebviewEvent[] => matrixEvents().slice(before);
    await vscode.commands.executeCommand('conntrackBackport.showMatrix', big, ['tags']);
    const detecting = await waitFor(
      () => events().find((e) => e.event === 'received' && e.type === 'rendered' && /detecting blob/.test(e.text ?? '')),
      'the page to show the sweep detecting blobs',
    );
    assert.match(detecting.text!, /\d+\/300 refs/);
    assert.match(detecting.text!, /refs\/s/);
    assert.equal(api.fromPage(VIEW_TYPE, { type: 'cancel' }), 1, 'one matrix panel took the Cancel');
    await waitFor(
      () => events().some((e) => e.event === 'received' && e.type === 'rendered' && e.text === 'Sweep cancelled.'),
      'the page to say the sweep was cancelled',
    );
    const gitAfter = api.gitProcesses().length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!events().some((e) => e.event === 'posted' && e.type === 'matrix'), 'no matrix reached the page');
    assert.equal(api.gitProcesses().length, gitAfter, 'no git process started after the cancel');
  });
});

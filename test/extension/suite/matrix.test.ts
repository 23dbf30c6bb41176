// The matrix panel inside a real editor, on a repository the project's generator writes (three
// tags: race 4 not in the tree, missing, fixed): the command opens the panel, the page says
// ready, and only then gets the target and the swept matrix (the controller's queue); hidden
// behind another editor its page is thrown away, and shown again it says ready once more and
// gets the matrix back without a new sweep.
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
});

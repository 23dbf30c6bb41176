// Restricted Mode, in a workspace the runner leaves untrusted (workspace trust enabled, startup
// prompt off) on a git checkout: every command still answers, nothing reads git history, the
// matrix says why it is off, mutations are refused with a message — and the git port's spy
// sees no git process at all. Loaded only when the workspace is untrusted (see index.ts).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'conntrack-backport.conntrack-backport';
const CORE = 'net/netfilter/nf_conntrack_core.c';

interface Api {
  gitProcesses(): readonly { cwd: string; args: string[] }[];
  webviewEvents(): readonly { viewType: string; event: string; type?: string; text?: string }[];
}

suite('Restricted Mode (untrusted workspace)', () => {
  let api: Api;
  let root: vscode.Uri;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID)!;
    api = await ext.activate();
    root = vscode.workspace.workspaceFolders![0].uri;
  });

  test('the workspace really is untrusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  test('every declared command is registered from activation, none hidden behind a context key', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const registered = new Set(await vscode.commands.getCommands(true));
    const declared: string[] = ext.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    assert.deepEqual(
      declared.filter((id) => !registered.has(id)),
      [],
    );
    const hidden = ext.packageJSON.contributes.menus.commandPalette.filter((m: { command: string }) => !m.command.includes('.internal.'));
    assert.deepEqual(hidden, []);
  });

  test('detection works on the source and says history is off', async () => {
    const r = await vscode.commands.executeCommand<{
      races: Record<string, { verdict: string }>;
      history?: { available: boolean; reason?: string };
    }>('conntrackBackport.detect', vscode.Uri.joinPath(root, CORE));
    assert.ok(r && r.races.race1, 'a detection result');
    assert.equal(r.history?.available, false);
    assert.match(r.history?.reason ?? '', /Restricted Mode/);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(root, CORE));
    await vscode.window.showTextDocument(doc);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri)) ?? [];
    assert.ok(lenses.length > 0, 'lenses on the open file');
  });

  test('planning and applying a backport are refused with a message', async () => {
    const r = await vscode.commands.executeCommand<{ refused?: string }>('conntrackBackport.planBackport', root);
    assert.match(r?.refused ?? '', /Restricted Mode/);
    assert.match(r?.refused ?? '', /Trust this workspace/);
  });

  test('the matrix opens and says why history is off', async () => {
    const said = (): boolean =>
      api
        .webviewEvents()
        .some(
          (e) =>
            e.viewType.endsWith('conntrackBackport.matrix') &&
            e.event === 'posted' &&
            e.type === 'restricted' &&
            /Restricted Mode: the matrix reads every branch and tag from git history/.test(e.text ?? ''),
        );
    const r = await vscode.commands.executeCommand<{ restricted?: string }>('conntrackBackport.showMatrix', root.fsPath, ['master']);
    assert.match(r?.restricted ?? '', /Restricted Mode: the matrix reads every branch and tag from git history/);
    const open = (): boolean => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.label.startsWith('Conntrack matrix'));
    for (let i = 0; i < 50 && !open(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      open(),
      `the matrix panel is open (tabs: ${vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .map((t) => t.label)
        .join(', ')})`,
    );
    // The page itself got the reason, after it said ready (not only the command's caller).
    for (let i = 0; i < 100 && !said(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(said(), `the page was told why: ${JSON.stringify(api.webviewEvents())}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the simulation opens (it needs no git)', async () => {
    await vscode.commands.executeCommand('conntrackBackport.openSimulation', { uri: vscode.Uri.joinPath(root, CORE).toString() });
    await new Promise((r) => setTimeout(r, 1000));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('no git process was started by any of it', async () => {
    // The status bar's startup detection runs 1.5 s after activation: wait it out first.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(
      api.gitProcesses().map((e) => e.args.join(' ')),
      [],
    );
  });
});

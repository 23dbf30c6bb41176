import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'conntrack-backport.conntrack-backport';

suite('commands', () => {
  test('every command declared in package.json is registered', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    const declared: string[] = (ext.packageJSON.contributes?.commands ?? []).map((c: { command: string }) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declared.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `declared but not registered: ${missing.join(', ')}`);
  });

  test('the git port spy sees the git processes of a detection with history (trusted)', async () => {
    const ext = vscode.extensions.getExtension<{ gitProcesses(): readonly { args: string[] }[] }>(EXTENSION_ID)!;
    const api = await ext.activate();
    const before = api.gitProcesses().length;
    const root = vscode.workspace.workspaceFolders![0].uri;
    await vscode.commands.executeCommand('conntrackBackport.detect', vscode.Uri.joinPath(root, 'net/netfilter/nf_conntrack_core.c'));
    assert.ok(api.gitProcesses().length > before, 'at least one git process (rev-parse) counted');
  });
});

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'conntrack-backport.conntrack-backport';

suite('activation', () => {
  test('the extension is installed', () => {
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID), `${EXTENSION_ID} not found`);
  });

  test('the workspace is kernel-shaped', async () => {
    const hits = await vscode.workspace.findFiles('net/netfilter/nf_conntrack_core.c', undefined, 1);
    assert.equal(hits.length, 1, 'the test workspace must contain net/netfilter/nf_conntrack_core.c');
  });

  test('it activates on a kernel-shaped workspace', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    // workspaceContains activation happens on its own; wait for it rather than calling
    // activate(), which would pass even if the activation event were wrong.
    const deadline = Date.now() + 15_000;
    while (!ext.isActive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(ext.isActive, 'not activated by workspaceContains:net/netfilter/nf_conntrack_core.c');
  });
});

import * as vscode from 'vscode';

/** The "Conntrack Backport" log; level and timestamps come from VS Code's log channel. */
export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Conntrack Backport', { log: true });
}

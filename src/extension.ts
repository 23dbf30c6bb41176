import * as vscode from 'vscode';
import { mark, timings } from './timings';

export function activate(context: vscode.ExtensionContext): void {
  mark('activate:start');
  // Surfaces are registered in later commits.
  context.subscriptions.push(vscode.commands.registerCommand('conntrackBackport.internal.timings', timings));
  mark('activate:end');
}

export function deactivate(): void {}

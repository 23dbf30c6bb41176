import * as vscode from 'vscode';
import { registerSimulation, workspaceDetection } from './simulation';

export function activate(context: vscode.ExtensionContext): void {
  // Surfaces are registered in later commits.
  context.subscriptions.push(...registerSimulation(context, workspaceDetection(context)));
}

export function deactivate(): void {}

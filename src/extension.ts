import * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Surfaces are registered in later commits.
}

export function deactivate(): void {}

// A stand-alone way to get the tree's detection for the panel when no detection service is
// wired in (the lead passes the extension's own to registerSimulation): the nf_conntrack_core.c
// of the active editor, else the first one in the workspace, source layer only.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { detectPath, detectText, CORE_REL_PATH } from '../core/detect';
import { setWasmDirectory } from '../core/parse/treesitter';
import type { DetectionResult } from '../core/types';

export function workspaceDetection(context: vscode.ExtensionContext): (uri?: vscode.Uri) => Promise<DetectionResult | undefined> {
  setWasmDirectory(path.join(context.extensionPath, 'dist'));
  return async (uri) => {
    const open = vscode.window.activeTextEditor?.document;
    if (!uri && open && path.basename(open.uri.fsPath) === 'nf_conntrack_core.c') return detectText(open.getText(), open.uri.fsPath);
    const target = uri ?? (await vscode.workspace.findFiles(`**/${CORE_REL_PATH}`, '**/node_modules/**', 1))[0];
    if (!target) return undefined;
    return detectPath(target.fsPath, { history: false });
  };
}

// The tree's overall state in the status bar; a click runs the detect command.
import * as vscode from 'vscode';
import { Ctx } from '../ctx';
import { CMD } from '../ids';
import { summarize } from './presentation';

export function registerStatusBar(ctx: Ctx): vscode.Disposable[] {
  const item = vscode.window.createStatusBarItem('conntrackBackport.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Conntrack Backport';
  item.command = CMD.detect;
  item.text = '$(shield) conntrack';
  item.tooltip = 'Conntrack race fixes: not checked yet — click to detect';
  const show = (): void => {
    const editorOnCore = vscode.window.activeTextEditor?.document.fileName.endsWith('nf_conntrack_core.c');
    if (ctx.kernelTrees.length || editorOnCore) item.show();
    else item.hide();
  };
  const sub = ctx.detection.onDidDetect(({ uri, result }) => {
    const s = summarize(result);
    item.text = s.text;
    item.tooltip = new vscode.MarkdownString(
      `**${vscode.workspace.asRelativePath(uri)}**\n\n${s.tooltip
        .split('\n')
        .map((l) => `- ${l}`)
        .join('\n')}\n\n_Click for the full report._`,
    );
    item.backgroundColor =
      s.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : s.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    show();
  });
  show();
  return [item, sub, vscode.window.onDidChangeActiveTextEditor(show)];
}

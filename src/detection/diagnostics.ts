// Diagnostics on the exact evidence lines: a warning where a race still drops, information
// where a fix sits. The live document wins over a whole-tree run from disk.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Ctx } from '../ctx';
import { DIAGNOSTIC_SOURCE } from '../ids';
import { RACE_FIX_COMMIT } from '../core/report';
import { diagnosticPlan } from './presentation';

export function registerDiagnostics(ctx: Ctx): vscode.Disposable[] {
  const collection = vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE);
  const sub = ctx.detection.onDidDetect(({ uri, result, trigger }) => {
    const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString());
    if (trigger === 'tree' && open) return;
    const items = diagnosticPlan(result, path.resolve(result.file) === uri.fsPath ? result.file : uri.fsPath).map((p) => {
      const d = new vscode.Diagnostic(
        new vscode.Range(p.startLine - 1, 0, p.endLine - 1, Number.MAX_SAFE_INTEGER),
        p.message,
        p.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
      );
      d.source = DIAGNOSTIC_SOURCE;
      // The upstream commit that closes the race: what a kernel engineer looks up next.
      d.code = RACE_FIX_COMMIT[p.race];
      return d;
    });
    collection.set(uri, items);
  });
  return [
    collection,
    sub,
    vscode.workspace.onDidCloseTextDocument((d) => {
      // A closed file's live diagnostics would go stale; a tree run sets them again.
      if (collection.has(d.uri)) collection.delete(d.uri);
    }),
  ];
}

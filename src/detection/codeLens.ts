// Verdict and action lenses above the relevant functions of nf_conntrack_core.c.
import * as vscode from 'vscode';
import { Ctx } from '../ctx';
import { isCoreDocument } from './service';
import { lensPlan } from './presentation';
import { mark } from '../timings';

export const CORE_SELECTOR: vscode.DocumentSelector = { language: 'c', scheme: 'file', pattern: '**/nf_conntrack_core.c' };

export class VerdictLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly ctx: Ctx) {
    this.subscriptions = [
      this.changed,
      // VS Code re-asks after its own edit debounce; our refresh covers results that arrive
      // later (a slow first parse) and settings changes.
      ctx.detection.onDidDetect((e) => {
        if (e.trigger === 'edit' || e.trigger === 'tree') this.changed.fire();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('conntrackBackport.codeLens.enabled')) this.changed.fire();
      }),
    ];
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    if (!isCoreDocument(doc) || !this.ctx.config(doc.uri).codeLensEnabled) return [];
    let result;
    try {
      result = await this.ctx.detection.forDocument(doc);
    } catch (err) {
      const first = new vscode.Range(0, 0, 0, 0);
      return [
        new vscode.CodeLens(first, {
          title: '$(question) Conntrack: detection failed — see the Conntrack Backport output',
          command: 'workbench.action.output.toggleOutput',
          arguments: [],
        }),
      ];
    }
    if (token.isCancellationRequested) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const group of lensPlan(result, doc.uri.toString())) {
      const line = Math.min(Math.max(group.line - 1, 0), doc.lineCount - 1);
      const range = new vscode.Range(line, 0, line, 0);
      for (const item of group.items)
        lenses.push(new vscode.CodeLens(range, { title: item.title, command: item.command, arguments: item.args, tooltip: item.tooltip }));
    }
    if (lenses.length) mark('lenses:first');
    return lenses;
  }

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    vscode.Disposable.from(...this.subscriptions).dispose();
  }
}

export function registerCodeLens(ctx: Ctx): vscode.Disposable[] {
  const provider = new VerdictLensProvider(ctx);
  return [provider, vscode.languages.registerCodeLensProvider(CORE_SELECTOR, provider)];
}

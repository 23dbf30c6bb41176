// Activation stays cheap: register surfaces and commands, look for the kernel file with one
// stat per workspace folder after activate() returns, and leave the wasm parser to the first
// detection.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { offerPendingRuns, registerBackport } from './backport/commands';
import { registerCodeLens } from './detection/codeLens';
import { registerCommands } from './commands';
import { affectsUs } from './config';
import { type GitProcessEvent, watchGit } from './core/git/run';
import { setWasmDirectory } from './core/parse/treesitter';
import { Ctx } from './ctx';
import { DetectionService } from './detection/service';
import { registerDiagnostics } from './detection/diagnostics';
import { registerMatrix } from './matrix/panel';
import { createLog } from './output';
import { ReportView } from './detection/reportView';
import { registerStatusBar } from './detection/statusBar';
import { mark } from './timings';
import { fromPage, type WebviewEvent, watchWebviews } from './webview/controller';

/** The first status-bar detection waits for the workbench to settle. */
const STARTUP_DETECT_DELAY_MS = 1500;

/** What the extension hands to other code (the extension suite counts git processes with it). */
export interface ConntrackBackportApi {
  /** Every git process started since activation (cwd and argv), oldest first. */
  gitProcesses(): readonly GitProcessEvent[];
  /** What the webview panels' controllers did (ready, messages the page got), oldest first. */
  webviewEvents(): readonly WebviewEvent[];
  /** Hands a message to the panels of a view type as if their page had posted it (validated as one). */
  fromPage(viewType: string, raw: unknown): number;
}

export function activate(context: vscode.ExtensionContext): ConntrackBackportApi {
  mark('activate:start');
  const gitLog: GitProcessEvent[] = [];
  context.subscriptions.push({ dispose: watchGit((e) => gitLog.length < 10_000 && gitLog.push(e)) });
  const webviewLog: WebviewEvent[] = [];
  context.subscriptions.push({ dispose: watchWebviews((e) => webviewLog.length < 10_000 && webviewLog.push(e)) });
  setWasmDirectory(path.join(context.extensionPath, 'dist'));
  const log = createLog();
  const detection = new DetectionService(log);
  const ctx = new Ctx(context, log, detection, new ReportView());
  detection.historyAllowed = () => ctx.mayReadGit;
  context.subscriptions.push(log, detection, ctx.reports, ...registerCommands(ctx));
  context.subscriptions.push(
    ...registerCodeLens(ctx),
    ...registerStatusBar(ctx),
    ...registerDiagnostics(ctx),
    ...ctx.simulation.disposables,
    ...registerBackport(),
    ...registerMatrix(context),
  );

  const reportSettings = (): void => {
    const { problems } = ctx.config();
    for (const p of problems) log.warn(`setting ${p}`);
    if (problems.length) void vscode.window.showWarningMessage(`Conntrack Backport settings: ${problems.join('; ')}`);
  };
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => affectsUs(e) && reportSettings()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void ctx.refreshKernelTrees()),
  );

  setTimeout(() => {
    reportSettings();
    void ctx.refreshKernelTrees().then((trees) => {
      log.info(`kernel trees: ${trees.map((t) => t.coreFile.fsPath).join(', ') || 'none'}`);
      if (!trees.length) return;
      setTimeout(() => {
        // An open editor already feeds the status bar from its live text.
        if (vscode.workspace.textDocuments.some((d) => d.uri.fsPath === trees[0].coreFile.fsPath)) return;
        detection.detectQuick(trees[0].coreFile.fsPath).catch((err) => log.warn(`startup detection: ${err}`));
      }, STARTUP_DETECT_DELAY_MS);
      // A backport interrupted in an earlier window is offered for continue/abort.
      setTimeout(() => void offerPendingRuns(ctx).catch((err) => log.warn(`pending backport check: ${err}`)), STARTUP_DETECT_DELAY_MS);
    });
  }, 0);
  mark('activate:end');
  return { gitProcesses: () => gitLog, webviewEvents: () => webviewLog, fromPage };
}

export function deactivate(): void {}

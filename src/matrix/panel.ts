// The matrix view: a webview panel over the core sweep (thin: the core decides, the page
// renders), and a read-only conntrack-ref: document provider that shows the file at a commit,
// so every cell can open its evidence without checking anything out.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { newNonce } from '../webview/shell';
import { registerRestore, WebviewController } from '../webview/controller';
import * as fs from 'node:fs';
import { exportMatrix, Matrix, sweep, SweepCancelled } from '../core/matrix';
import { loadMatrix, refsFingerprint, saveMatrix } from '../core/matrix/cache';
import { readConfig } from '../config';
import { restoreTarget } from './state';
import { gitText } from '../core/git/run';
import { logRun } from '../output';
import { matrixHtml } from './html';
import {
  MATRIX_VIEW_TYPE,
  parseRefDocumentQuery,
  parseToHost,
  REF_SCHEME,
  type RefDocument,
  refDocumentQuery,
  type ToHost,
  type ToPage,
} from './protocol';

export { SHOW_MATRIX_COMMAND, REF_SCHEME } from './protocol';

/** Serves `git show <commit>:<path>` (or the commit's patch to that file) as a read-only document. */
/** What the matrix says in Restricted Mode instead of sweeping (no git process is started). */
export const MATRIX_RESTRICTED =
  'Restricted Mode: the matrix reads every branch and tag from git history, which is off in an untrusted workspace (a repository can make git run programs). Trust this workspace to sweep; detection of the open file works without it.';

class RefContentProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    if (!vscode.workspace.isTrusted) throw new Error(MATRIX_RESTRICTED);
    const d = parseRefDocumentQuery(uri.query);
    if (!d) throw new Error(`not a conntrack-ref document: ${uri.toString()}`);
    // argv only, commit checked as hex and path as a relative path by parseRefDocumentQuery
    if (d.show === 'commit') return gitText(d.repo, ['show', '--no-color', '--format=fuller', d.commit, '--', d.path]);
    return gitText(d.repo, ['show', `${d.commit}:${d.path}`]);
  }
}

export function refDocumentUri(d: RefDocument): vscode.Uri {
  const name = d.show === 'commit' ? `${d.commit.slice(0, 12)}.patch` : `${d.ref.replace(/[/\\]/g, '_')}/${d.path}`;
  return vscode.Uri.from({ scheme: REF_SCHEME, path: '/' + name, query: refDocumentQuery(d) });
}

class MatrixPanel {
  static current: MatrixPanel | undefined;
  private readonly page: WebviewController<ToPage, ToHost>;
  private matrix: Matrix | undefined;
  /** Said with the matrix on show (e.g. that it is the kept sweep). */
  private note: string | undefined;
  private running: AbortController | undefined;
  /** Restored after a reload: show the kept sweep when the refs have not moved, else sweep. */
  private preferKept = false;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly keepDir: string,
    private repo: string,
    private refs: string[],
  ) {
    this.page = new WebviewController<ToPage, ToHost>(panel, this.html(), {
      parse: parseToHost,
      onReady: () => this.onReady(),
      onMessage: (m) => this.onMessage(m),
      onDispose: () => {
        this.running?.abort();
        if (MatrixPanel.current === this) MatrixPanel.current = undefined;
      },
      latestOnly: ['progress', 'busy'],
    });
  }

  static show(context: vscode.ExtensionContext, repo: string, refs: string[]): MatrixPanel {
    if (MatrixPanel.current) {
      MatrixPanel.current.panel.reveal();
      MatrixPanel.current.repo = repo;
      MatrixPanel.current.refs = refs;
      MatrixPanel.current.postTarget();
      void MatrixPanel.current.run();
      return MatrixPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      MATRIX_VIEW_TYPE,
      `Conntrack matrix: ${path.basename(repo)}`,
      vscode.ViewColumn.Active,
      panelOptions(context.extensionUri),
    );
    MatrixPanel.current = new MatrixPanel(panel, context.extensionUri, keepDir(context), repo, refs);
    return MatrixPanel.current;
  }

  /**
   * From the serializer after a window reload: the page's saved state names the repository and
   * selection; the page restores its own filter and sort. A state naming nothing (a panel closed
   * before its first sweep) or a repository that is gone leaves a page that says so.
   */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, restored: { repo: string; refs: string[] } | null): void {
    panel.webview.options = panelOptions(context.extensionUri);
    const target = restored && { ...restored, repo: path.normalize(restored.repo) };
    MatrixPanel.current?.dispose();
    const p = new MatrixPanel(panel, context.extensionUri, keepDir(context), target?.repo ?? '', target?.refs ?? []);
    p.preferKept = true;
    MatrixPanel.current = p;
    panel.title = target ? `Conntrack matrix: ${path.basename(target.repo)}` : 'Conntrack matrix';
  }

  private postTarget(): void {
    if (this.repo) this.post({ type: 'target', repo: this.repo, refs: this.refs });
  }

  /** The kept sweep for this repository and selection, when every ref still points where it did. */
  private async kept(): Promise<Matrix | null> {
    try {
      return loadMatrix(this.keepDir, this.repo, this.refs, await refsFingerprint(this.repo));
    } catch {
      return null;
    }
  }

  private async keep(m: Matrix): Promise<void> {
    try {
      saveMatrix(this.keepDir, m, this.refs, await refsFingerprint(this.repo));
    } catch {
      // Only a reload pays for a failed write: it sweeps again.
    }
  }

  /**
   * The page is up (first load, or again after it was hidden): what it shows first — the
   * matrix it had, the kept one after a reload, or the start of a new sweep.
   */
  private async onReady(): Promise<ToPage[]> {
    if (!vscode.workspace.isTrusted) return [{ type: 'restricted', message: MATRIX_RESTRICTED }];
    if (!this.repo || !fs.existsSync(this.repo))
      return [
        {
          type: 'error',
          message: this.repo
            ? `${this.repo} is gone: run "Show Backport Matrix" again.`
            : 'Nothing to restore: run "Show Backport Matrix".',
        },
      ];
    const target: ToPage = { type: 'target', repo: this.repo, refs: this.refs };
    if (this.matrix) return [target, { type: 'matrix', matrix: this.matrix, note: this.note }];
    if (this.running) return [target];
    if (this.preferKept) {
      this.preferKept = false;
      const m = await this.kept();
      if (m) {
        this.matrix = m;
        this.note = `Kept sweep from ${m.generatedAt.slice(0, 16).replace('T', ' ')} UTC (no ref has moved since); Sweep to run it again.`;
        return [target, { type: 'matrix', matrix: m, note: this.note }];
      }
    }
    void this.run();
    return [target];
  }

  private html(): string {
    const w = this.panel.webview;
    return matrixHtml({
      cspSource: w.cspSource,
      nonce: newNonce(),
      // The page is src/matrix/page, bundled by scripts/build.mjs.
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'matrix.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'matrix.css')).toString(),
    });
  }

  private post(m: ToPage): void {
    this.page.post(m);
  }

  /** Sweep with a cancellable progress notification; the page shows the result. */
  async run(): Promise<void> {
    if (!vscode.workspace.isTrusted) return this.post({ type: 'restricted', message: MATRIX_RESTRICTED });
    this.running?.abort();
    const ac = new AbortController();
    this.running = ac;
    this.post({ type: 'busy', message: `Sweeping ${this.refs.length ? this.refs.join(' ') : 'all branches and tags'}…` });
    const t0 = performance.now();
    const what = `sweep ${this.repo} ${this.refs.join(' ') || '(all branches and tags)'}`;
    try {
      const m = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Conntrack matrix', cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => ac.abort());
          let last = 0;
          let lastPost = 0;
          return sweep(this.repo, {
            refs: this.refs,
            overrides: readConfig(vscode.Uri.file(this.repo)).backport.commitOverrides,
            signal: ac.signal,
            // Kept sweeps: the next sweep of this repository only pays for refs that moved.
            keep: { dir: path.join(this.keepDir, 'sweeps') },
            onProgress: (p) => {
              const now = Date.now();
              if (now - lastPost >= 200 || p.message === 'done') {
                lastPost = now;
                this.post({
                  type: 'progress',
                  phase: p.phase,
                  message: p.message,
                  done: p.done,
                  total: p.total,
                  refs: p.refs,
                  refsDone: p.refsDone,
                  refsPerSecond: p.refsPerSecond,
                  ...(p.current ? { current: p.current } : {}),
                });
              }
              const pct =
                p.phase === 'detect' && p.total
                  ? Math.round((p.done / p.total) * 80) + 10
                  : p.phase === 'lines'
                    ? 95
                    : p.phase === 'history'
                      ? 92
                      : 5;
              progress.report({ message: p.message, increment: Math.max(0, pct - last) });
              last = Math.max(last, pct);
            },
          });
        },
      );
      if (this.running !== ac) return;
      this.matrix = m;
      this.note = undefined;
      logRun(what, t0, `${m.rows.length} refs`);
      this.post({ type: 'matrix', matrix: m });
      void this.keep(m);
    } catch (e) {
      logRun(
        what,
        t0,
        e instanceof SweepCancelled || (e as Error).name === 'AbortError' ? 'cancelled' : `failed: ${(e as Error).message ?? e}`,
      );
      if (e instanceof SweepCancelled || (e as Error).name === 'AbortError') this.post({ type: 'error', message: 'Sweep cancelled.' });
      else {
        this.post({ type: 'error', message: String((e as Error).message ?? e) });
        void vscode.window.showErrorMessage(`Conntrack matrix: ${(e as Error).message ?? e}`);
      }
    } finally {
      if (this.running === ac) this.running = undefined;
    }
  }

  private async onMessage(msg: ToHost): Promise<void> {
    if (msg.type === 'rendered') return; // seen by the controller's event log only
    if (msg.type === 'cancel') this.running?.abort();
    else if (msg.type === 'rerun') {
      if (!this.repo) return;
      this.refs = msg.refs;
      this.postTarget();
      void this.run();
    } else if (msg.type === 'open') {
      const p = msg.pointer;
      const uri = refDocumentUri({
        repo: this.repo,
        commit: p.commit,
        path: p.path,
        ref: p.ref,
        show: p.layer === 'history' ? 'commit' : 'file',
      });
      const doc = await vscode.workspace.openTextDocument(uri);
      if (p.layer !== 'history' && doc.languageId !== 'c')
        await vscode.languages.setTextDocumentLanguage(doc, 'c').then(undefined, () => undefined);
      const selection = p.line ? new vscode.Range(p.line - 1, 0, (p.endLine ?? p.line) - 1, Number.MAX_SAFE_INTEGER) : undefined;
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, selection });
    } else if (msg.type === 'export' && this.matrix) {
      const ext = msg.format === 'markdown' ? 'md' : msg.format;
      const dflt = vscode.Uri.file(path.join(this.repo, `conntrack-matrix.${ext}`));
      const target = await vscode.window.showSaveDialog({ defaultUri: dflt, filters: { [msg.format]: [ext] } });
      if (!target) return;
      await vscode.workspace.fs.writeFile(target, Buffer.from(exportMatrix(this.matrix, msg.format), 'utf8'));
      void vscode.window.showInformationMessage(`Conntrack matrix exported to ${target.fsPath}`);
    }
  }

  dispose(): void {
    this.page.dispose();
  }
}

/** The repository to sweep: the argument, the active file's repository, or a pick among folders. */
async function pickRepo(arg?: unknown): Promise<string | undefined> {
  const candidates: string[] = [];
  if (arg instanceof vscode.Uri) candidates.push(arg.fsPath);
  else if (typeof arg === 'string') candidates.push(arg);
  else {
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active?.scheme === 'file') candidates.push(path.dirname(active.fsPath));
    for (const f of vscode.workspace.workspaceFolders ?? []) candidates.push(f.uri.fsPath);
  }
  const roots: string[] = [];
  for (const c of candidates) {
    try {
      const root = (await gitText(c, ['rev-parse', '--show-toplevel'])).trim();
      if (root && !roots.includes(root)) roots.push(root);
    } catch {
      // not a repository
    }
  }
  if (roots.length <= 1 || arg) return roots[0];
  return vscode.window.showQuickPick(roots, { placeHolder: 'Repository to sweep' });
}

/** Command handler: `conntrackBackport.showMatrix [repo] [refPatterns]`. */
export async function showMatrix(
  context: vscode.ExtensionContext,
  repoArg?: unknown,
  refsArg?: unknown,
): Promise<{ restricted: string } | void> {
  if (!vscode.workspace.isTrusted) {
    const folder =
      typeof repoArg === 'string'
        ? repoArg
        : repoArg instanceof vscode.Uri
          ? repoArg.fsPath
          : (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '');
    MatrixPanel.show(context, folder, []);
    return { restricted: MATRIX_RESTRICTED };
  }
  const repo = await pickRepo(repoArg);
  if (!repo) {
    void vscode.window.showWarningMessage('Conntrack matrix: open a kernel git repository first.');
    return;
  }
  let refs: string[];
  if (Array.isArray(refsArg)) refs = refsArg.filter((r): r is string => typeof r === 'string');
  else {
    const typed = await vscode.window.showInputBox({
      prompt: 'Refs to sweep (globs on branch/tag names, or branches, tags, remotes, all); empty = all branches and tags',
      placeHolder: 'v4.19.* Ubuntu-* linux-*.y',
    });
    if (typed === undefined) return;
    refs = typed.split(/\s+/).filter(Boolean);
  }
  const bad = refs.find((r) => r.startsWith('-'));
  if (bad) {
    void vscode.window.showErrorMessage(`Conntrack matrix: refusing a ref pattern that starts with '-': ${bad}`);
    return;
  }
  MatrixPanel.show(context, repo, refs);
}

function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist')],
  };
}

/** Where the last sweeps are kept for restored panels (the extension's own global storage). */
function keepDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'matrix');
}

/** Registers the conntrack-ref: provider and the panel serializer (the command is in the table). */
export function registerMatrix(context: vscode.ExtensionContext): vscode.Disposable[] {
  return [
    vscode.workspace.registerTextDocumentContentProvider(REF_SCHEME, new RefContentProvider()),
    // A reload restores the panel from the page's getState() (validated by state.ts).
    registerRestore(MATRIX_VIEW_TYPE, restoreTarget, (panel, target) => MatrixPanel.revive(panel, context, target)),
    { dispose: () => MatrixPanel.current?.dispose() },
  ];
}

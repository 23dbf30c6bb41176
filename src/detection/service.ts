// Detection for the editor: the live text of each open nf_conntrack_core.c (source layer,
// cached per document version, re-run debounced after edits) and whole-tree runs from disk
// (history layer and nf_nat_core.c joined in). Every fresh result is announced once.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { applyContext, contextOf, detectPath, detectText, TreeContext } from '../core/detect';
import { gitAvailable } from '../core/git/run';
import type { DetectionResult } from '../core/types';
import { CORE_FILE_NAME } from '../ids';
import { mark } from '../timings';

export interface DetectionEvent {
  uri: vscode.Uri;
  result: DetectionResult;
  /** request: computed because someone asked; edit: the debounced refresh; tree: a whole-tree run. */
  trigger: 'request' | 'edit' | 'tree';
}

export function isCoreDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && path.basename(doc.uri.fsPath) === CORE_FILE_NAME;
}

export class DetectionService implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; result: Promise<DetectionResult> }>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly trees = new Map<string, DetectionResult>();
  /** History and nf_nat_core.c findings per core file, laid over live-text results. */
  private readonly contexts = new Map<string, TreeContext>();
  private readonly contextRequested = new Set<string>();
  /** Set by the extension: may git history be read (trusted workspace)? */
  historyAllowed: () => boolean = () => false;
  private readonly emitter = new vscode.EventEmitter<DetectionEvent>();
  private readonly subscriptions: vscode.Disposable[];
  readonly onDidDetect = this.emitter.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly debounceMs = 300,
  ) {
    this.subscriptions = [
      this.emitter,
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length && isCoreDocument(e.document)) this.schedule(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        const key = doc.uri.toString();
        this.cache.delete(key);
        clearTimeout(this.timers.get(key));
        this.timers.delete(key);
      }),
    ];
  }

  /** The live document's result, computed at most once per version. */
  forDocument(doc: vscode.TextDocument, trigger: DetectionEvent['trigger'] = 'request'): Promise<DetectionResult> {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.result;
    const version = doc.version;
    const t0 = performance.now();
    const file = path.resolve(doc.uri.fsPath);
    const result = detectText(doc.getText(), doc.uri.fsPath).then((r) => {
      mark('detect:first');
      const context = this.contexts.get(file);
      if (context) applyContext(r, context);
      if (!context?.history) this.requestContext(file);
      this.log.debug(`detected ${vscode.workspace.asRelativePath(doc.uri)} v${version} in ${(performance.now() - t0).toFixed(1)} ms`);
      // A newer version may have been requested meanwhile; only the current one is announced.
      if (this.cache.get(key)?.version === version) this.emitter.fire({ uri: doc.uri, result: r, trigger });
      return r;
    });
    result.catch((err) => {
      this.log.error(`detection failed on ${doc.uri.fsPath}: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
      if (this.cache.get(key)?.version === version) this.cache.delete(key);
    });
    this.cache.set(key, { version, result });
    return result;
  }

  /**
   * Once per file, in the background: a whole-tree run with history (when allowed), whose
   * context then refines the live-text results (the event makes the lenses ask again).
   */
  private requestContext(file: string): void {
    if (this.contextRequested.has(file)) return;
    this.contextRequested.add(file);
    const history = this.historyAllowed();
    void this.detectTree(file, { history }).catch((err) => this.log.warn(`tree detection for ${file}: ${err}`));
  }

  /** Last result for an open document, without computing. */
  async cached(uri: vscode.Uri): Promise<DetectionResult | undefined> {
    return this.cache.get(uri.toString())?.result.catch(() => undefined);
  }

  private schedule(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!doc.isClosed) void this.forDocument(doc, 'edit').catch(() => undefined);
      }, this.debounceMs),
    );
  }

  /**
   * A kernel tree (or a core file) from disk. `history` runs git read commands; the caller
   * decides whether the workspace is trusted enough for that.
   */
  async detectTree(target: string, opts: { history: boolean }): Promise<DetectionResult> {
    const t0 = performance.now();
    const history = opts.history && (await gitAvailable());
    const r = await detectPath(target, { history });
    if (opts.history && !history)
      r.history = {
        available: false,
        reason: 'git is not installed (not on PATH): source layer only',
        commitsTouchingFile: 0,
        commits: [],
        net: {},
      };
    else if (!opts.history)
      r.history = {
        available: false,
        reason: 'Restricted Mode: git history is not read in an untrusted workspace (source layer only)',
        commitsTouchingFile: 0,
        commits: [],
        net: {},
      };
    this.log.info(`detected ${r.file} (tree, history ${history ? 'on' : 'off'}) in ${(performance.now() - t0).toFixed(0)} ms`);
    this.trees.set(path.resolve(r.file), r);
    this.setContext(path.resolve(r.file), contextOf(r));
    this.emitter.fire({ uri: vscode.Uri.file(path.resolve(r.file)), result: r, trigger: 'tree' });
    return r;
  }

  private setContext(file: string, c: TreeContext): void {
    this.contexts.set(file, c);
    // Live-text results computed without it are stale now.
    for (const [key] of this.cache) if (path.resolve(vscode.Uri.parse(key).fsPath) === file) this.cache.delete(key);
  }

  /** Source layer and nf_nat_core.c from disk, no git: the status bar's first look at the tree. */
  async detectQuick(file: string): Promise<DetectionResult> {
    const r = await detectPath(file, { history: false });
    if (!this.contexts.has(path.resolve(r.file))) this.setContext(path.resolve(r.file), { related: r.related });
    this.emitter.fire({ uri: vscode.Uri.file(path.resolve(r.file)), result: r, trigger: 'tree' });
    return r;
  }

  /** The last whole-tree result for a core file path. */
  treeResult(file: string): DetectionResult | undefined {
    return this.trees.get(path.resolve(file));
  }

  lastTreeResult(): DetectionResult | undefined {
    return [...this.trees.values()].at(-1);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    vscode.Disposable.from(...this.subscriptions).dispose();
  }
}

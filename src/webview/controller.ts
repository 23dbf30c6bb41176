// The host side of every webview panel of ours (the matrix and the simulation): one lifecycle.
//   - ready handshake: the page says `ready` once its listener is up (src/webview/page/host.ts);
//     until then every post waits in a queue, so nothing is lost to a page still loading;
//   - a hidden panel without retainContextWhenHidden loses its document: the page is not ready
//     again until it has reloaded and said so; meanwhile posts queue (the newest progress-like
//     message of a type replaces the older one), and `onReady(reload = true)` lets the owner
//     send what the fresh page needs before the queue is flushed;
//   - page messages are validated by the owner's `parse` before anything acts on them;
//   - restore after a window reload: `registerRestore` wraps the panel serializer, giving the
//     owner the page's saved state through its own validator;
//   - dispose: the panel, the listeners and the owner's `onDispose`, once.

import * as vscode from 'vscode';

type Typed = { type: string };

export interface ControllerOptions<ToPage extends Typed, ToHost extends Typed> {
  /** Validates a page message (the page is untrusted input); null drops it. */
  parse(raw: unknown): ToHost | null;
  /**
   * The page (re)loaded and said ready. Returns what the page must get first, before the
   * messages queued while it loaded. `reload`: this panel's page had been ready before.
   */
  onReady(reload: boolean): ToPage[] | void | Promise<ToPage[] | void>;
  /** Every validated page message but `ready`. */
  onMessage(msg: ToHost): void | Promise<void>;
  /** A handler threw or rejected (default: an error notification). */
  onError?(err: unknown): void;
  /** The panel is gone (closed by the user or disposed by the owner); called once. */
  onDispose?(): void;
  /** Message types of which only the newest needs to reach a page that is not ready (progress). */
  latestOnly?: readonly ToPage['type'][];
}

/** What a panel's controller did, for the extension suite (see ConntrackBackportApi). */
export interface WebviewEvent {
  viewType: string;
  event: 'ready' | 'posted' | 'queued' | 'received' | 'disposed';
  /** The message type; for `posted`, the page got it (postMessage resolved true). */
  type?: string;
  /** A short text of the message (its `message` field, or its `text` field, when it has one). */
  text?: string;
}

type Listener = (e: WebviewEvent) => void;
const listeners = new Set<Listener>();
/** Controllers with a panel, for `fromPage` (the extension suite's stand-in for a page's click). */
const live = new Set<WebviewController<Typed, Typed>>();

/**
 * Hands `raw` to the controllers of `viewType` as if their page had posted it: the same
 * validation and handlers as a real page message. For the extension suite, which cannot click
 * inside a webview (the UI test does). Returns how many controllers took it.
 */
export function fromPage(viewType: string, raw: unknown): number {
  let n = 0;
  for (const c of live)
    if (c.panel.viewType.endsWith(viewType) && !c.disposed) {
      c.receiveFromPage(raw);
      n++;
    }
  return n;
}

/** Observes every controller (the extension's test API keeps a log of them). */
export function watchWebviews(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function emit(e: WebviewEvent): void {
  for (const l of listeners) l(e);
}

function textOf(msg: object): string | undefined {
  const m = msg as { message?: unknown; text?: unknown };
  return typeof m.message === 'string' ? m.message : typeof m.text === 'string' ? m.text : undefined;
}

/** Queued messages beyond this are dropped oldest first (a page that never loads must not grow the host). */
const MAX_QUEUE = 500;
/** How long a panel shown again waits for its reloaded page's `ready` before it posts anyway. */
const RELOAD_GRACE_MS = 3000;

export class WebviewController<ToPage extends Typed, ToHost extends Typed> implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly queue: ToPage[] = [];
  private isReady = false;
  private everReady = false;
  private isDisposed = false;
  /** Bumped by every `ready`: an onReady that finishes after a newer one has nothing to flush. */
  private generation = 0;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    html: string,
    private readonly o: ControllerOptions<ToPage, ToHost>,
  ) {
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        // A hidden page's document is thrown away; it says ready again when shown.
        if (!panel.visible && !panel.options.retainContextWhenHidden && this.everReady) this.isReady = false;
        else if (panel.visible && !this.isReady && this.everReady) this.expectReload();
      }),
      panel.webview.onDidReceiveMessage((raw) => this.receive(raw)),
    );
    panel.webview.html = html;
    live.add(this as unknown as WebviewController<Typed, Typed>);
  }

  get ready(): boolean {
    return this.isReady;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Sends now when the page is ready, else when it is; after dispose, nothing. */
  post(msg: ToPage): void {
    if (this.isDisposed) return;
    if (!this.isReady) return this.enqueue(msg);
    this.deliver(msg);
  }

  private enqueue(msg: ToPage): void {
    if (this.o.latestOnly?.includes(msg.type)) {
      const i = this.queue.findIndex((q) => q.type === msg.type);
      if (i >= 0) this.queue.splice(i, 1);
    }
    this.queue.push(msg);
    if (this.queue.length > MAX_QUEUE) this.queue.shift();
    emit({ viewType: this.panel.viewType, event: 'queued', type: msg.type });
  }

  private deliver(msg: ToPage): void {
    const viewType = this.panel.viewType;
    const text = textOf(msg);
    this.panel.webview.postMessage(msg).then(
      (ok) => ok && emit({ viewType, event: 'posted', type: msg.type, text }),
      () => undefined, // the panel went away meanwhile
    );
  }

  /**
   * Shown again: the fresh page says ready within moments. Should none come (the workbench kept
   * the document after all), the queue goes to the page that is there.
   */
  private expectReload(): void {
    const gen = this.generation;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      if (this.isDisposed || this.isReady || gen !== this.generation) return;
      this.isReady = true;
      for (const m of this.queue.splice(0)) this.deliver(m);
    }, RELOAD_GRACE_MS);
  }

  /** See `fromPage`. */
  receiveFromPage(raw: unknown): void {
    this.receive(raw);
  }

  private receive(raw: unknown): void {
    if (this.isDisposed) return;
    if (raw && typeof raw === 'object' && (raw as Typed).type === 'ready') {
      void this.onPageReady();
      return;
    }
    const msg = this.o.parse(raw);
    if (!msg) return;
    emit({ viewType: this.panel.viewType, event: 'received', type: msg.type, text: textOf(msg) });
    this.guard(() => this.o.onMessage(msg));
  }

  private async onPageReady(): Promise<void> {
    const gen = ++this.generation;
    const reload = this.everReady;
    this.isReady = false;
    let first: ToPage[] | void = [];
    try {
      first = await this.o.onReady(reload);
    } catch (err) {
      this.fail(err);
    }
    if (gen !== this.generation || this.isDisposed) return;
    this.isReady = true;
    this.everReady = true;
    emit({ viewType: this.panel.viewType, event: 'ready', type: reload ? 'reload' : 'first' });
    for (const m of first ?? []) this.deliver(m);
    for (const m of this.queue.splice(0)) this.deliver(m);
  }

  private guard(f: () => void | Promise<void>): void {
    try {
      const r = f();
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch((err) => this.fail(err));
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.o.onError) this.o.onError(err);
    else void vscode.window.showErrorMessage(`${this.panel.title}: ${(err as Error)?.message ?? err}`);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.isReady = false;
    live.delete(this as unknown as WebviewController<Typed, Typed>);
    clearTimeout(this.reloadTimer);
    this.queue.length = 0;
    emit({ viewType: this.panel.viewType, event: 'disposed' });
    try {
      this.o.onDispose?.();
    } finally {
      this.panel.dispose();
      for (const d of this.disposables.splice(0)) d.dispose();
    }
  }
}

/**
 * Restores a panel of `viewType` after a window reload: `revive` gets the panel and the page's
 * last saved state passed through `validate` (the state comes back from the page: old input).
 */
export function registerRestore<S>(
  viewType: string,
  validate: (raw: unknown) => S,
  revive: (panel: vscode.WebviewPanel, state: S) => void | Promise<void>,
): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(viewType, {
    deserializeWebviewPanel: async (panel, raw) => revive(panel, validate(raw)),
  });
}

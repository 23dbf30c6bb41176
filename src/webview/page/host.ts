// The page side of the one webview lifecycle (the host side is src/webview/controller.ts):
// the page takes its handle on the host once, renders what it can without the host, then
// connects: it listens for host messages and only then says `ready`, so nothing the host sends
// after the handshake can arrive before the listener. getState/setState keep what the page
// restores itself when its panel is hidden (its document is thrown away) or the window reloads.

interface VsCodeApi<ToHost, State> {
  postMessage(msg: ToHost): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi<ToHost, State>(): VsCodeApi<ToHost, State>;

export interface PageHost<ToHost extends { type: string }, State> {
  postMessage(msg: ToHost): void;
  /** What this page saved before it was hidden or reloaded (old input: validate it). */
  getState(): State | undefined;
  setState(state: State): void;
  /** Listen for host messages, then post `ready` (once per page load). */
  connect<ToPage>(onMessage: (msg: ToPage) => void): void;
}

let api: VsCodeApi<unknown, unknown> | undefined;

/** The page's handle on its host; acquireVsCodeApi may be called once per load, so it is kept. */
export function pageHost<ToHost extends { type: string }, State>(): PageHost<ToHost, State> {
  const vs = (api ??= acquireVsCodeApi<unknown, unknown>()) as VsCodeApi<ToHost, State>;
  let connected = false;
  return {
    postMessage: (m) => vs.postMessage(m),
    getState: () => vs.getState(),
    setState: (s) => vs.setState(s),
    connect(onMessage) {
      if (connected) return;
      connected = true;
      window.addEventListener('message', (ev: MessageEvent) => onMessage(ev.data));
      vs.postMessage({ type: 'ready' } as ToHost);
    },
  };
}

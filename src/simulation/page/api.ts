// The webview's handle on the host: typed with the shared protocol.
import type { PageToHost, SavedState } from '../protocol';

interface VsCodeApi {
  postMessage(msg: PageToHost): void;
  getState(): SavedState | undefined;
  setState(state: SavedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** acquireVsCodeApi may be called once per page load. */
export const host = acquireVsCodeApi();

// The webview's handle on the host: the shared page lifecycle (src/webview/page/host.ts), typed
// with the simulation protocol.
import type { PageToHost, SavedState } from '../protocol';
import { pageHost } from '../../webview/page/host';

export const host = pageHost<PageToHost, SavedState>();

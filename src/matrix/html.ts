// The matrix page's HTML shell (host side): the controls the page script wires up.
import { webviewPage } from '../webview/shell';
import { KIND_OPTIONS, ONLY_OPTIONS } from './state';

/** Option values and labels are our own constants (no user text): no escaping needed. */
const options = (list: readonly { value: string; label: string }[]): string =>
  list.map((o) => `    <option value="${o.value}">${o.label}</option>`).join('\n');

/** The page shell: strict CSP, one nonce'd script (dist/matrix.js, bundled from src/matrix/page) and media/matrix.css. */
export function matrixHtml(o: { cspSource: string; nonce: string; scriptUri: string; styleUri: string }): string {
  return webviewPage({ ...o, title: 'Conntrack backport matrix', body: MATRIX_BODY });
}

const MATRIX_BODY = `<header class="bar">
  <input id="filter" type="search" placeholder="Filter refs (text or /regex/)" aria-label="Filter refs">
  <select id="only" aria-label="Show only">
${options(ONLY_OPTIONS)}
  </select>
  <select id="kind" aria-label="Ref kind">
${options(KIND_OPTIONS)}
  </select>
  <input id="refs" type="text" placeholder="Refs, e.g. v4.19.* Ubuntu-*" aria-label="Ref patterns">
  <button id="rerun">Sweep</button>
  <button id="cancel" class="hidden">Cancel</button>
  <span class="spacer"></span>
  <button data-export="markdown">Markdown</button>
  <button data-export="csv">CSV</button>
  <button data-export="json">JSON</button>
</header>
<div id="notice" class="notice hidden" role="alert"></div>
<div id="progress" class="progress hidden"><progress id="progress-bar" max="1" value="0"></progress> <span id="progress-text"></span></div>
<div id="status" role="status"></div>
<main>
  <table id="matrix"><thead></thead><tbody></tbody></table>
  <section id="events"></section>
</main>`;

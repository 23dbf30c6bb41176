// The matrix page's HTML shell (host side): the controls the page script wires up.
import { webviewPage } from '../webview/shell';

/** The page shell: strict CSP, nonce'd script, styles and script from media/ only. */
export function matrixHtml(o: { cspSource: string; nonce: string; scriptUri: string; styleUri: string }): string {
  return webviewPage({ ...o, title: 'Conntrack backport matrix', body: MATRIX_BODY });
}

const MATRIX_BODY = `<header class="bar">
  <input id="filter" type="search" placeholder="Filter refs (text or /regex/)" aria-label="Filter refs">
  <select id="only" aria-label="Show only">
    <option value="">all rows</option>
    <option value="race1:missing">race 1 missing</option>
    <option value="race2:missing">race 2 missing</option>
    <option value="race3:missing">race 3 missing</option>
    <option value="any:not-fixed">any race not fixed</option>
    <option value="azure">azure variants</option>
    <option value="disagree">history disagrees</option>
    <option value="status:other">moved or absent</option>
  </select>
  <select id="kind" aria-label="Ref kind">
    <option value="">branches and tags</option>
    <option value="branch">branches</option>
    <option value="tag">tags</option>
    <option value="remote">remote branches</option>
  </select>
  <input id="refs" type="text" placeholder="Ref patterns, e.g. v4.19.* Ubuntu-*" aria-label="Ref patterns">
  <button id="rerun">Sweep</button>
  <span class="spacer"></span>
  <button data-export="markdown">Markdown</button>
  <button data-export="csv">CSV</button>
  <button data-export="json">JSON</button>
</header>
<div id="status" role="status"></div>
<main>
  <table id="matrix"><thead></thead><tbody></tbody></table>
  <section id="events"></section>
</main>`;

// The matrix page: renders what the host sends, sorts and filters it, and asks the host to
// open evidence or export. It decides nothing about the kernel. All data goes in through
// textContent, never as HTML.
// @ts-check
(function () {
  // @ts-ignore acquireVsCodeApi is provided by the webview
  const vscode = acquireVsCodeApi();
  // Filter, sort and the ref box survive a reload through getState/setState; so do the
  // repository and selection on show (`repo`, `selection`), which the host's serializer reads
  // to show the same sweep again (src/matrixState.ts validates them there).
  const state = Object.assign({ filter: '', only: '', kind: '', sort: 'ref', dir: 1, refs: '' }, vscode.getState() || {});
  /** Said above the counts until the next sweep (e.g. "kept sweep from …"). */
  let note = '';
  /** @type {any} */
  let matrix = null;

  const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const filterEl = /** @type {HTMLInputElement} */ ($('filter'));
  const onlyEl = /** @type {HTMLSelectElement} */ ($('only'));
  const kindEl = /** @type {HTMLSelectElement} */ ($('kind'));
  const refsEl = /** @type {HTMLInputElement} */ ($('refs'));
  filterEl.value = state.filter;
  onlyEl.value = state.only;
  kindEl.value = state.kind;
  refsEl.value = state.refs;

  const COLS = [
    { key: 'ref', label: 'Ref', value: (r) => r.short },
    { key: 'kind', label: 'Kind', value: (r) => r.kind },
    { key: 'date', label: 'Date', value: (r) => r.date || 0, text: (r) => (r.date ? new Date(r.date * 1000).toISOString().slice(0, 10) : '') },
    { key: 'race1', label: 'Race 1', cell: 'race1' },
    { key: 'race2', label: 'Race 2', cell: 'race2' },
    { key: 'race3', label: 'Race 3', cell: 'race3' },
    { key: 'zone', label: 'Zone follow-up', feature: 'zone' },
    { key: 'rework', label: 'Rework 2020', feature: 'rework' },
    { key: 'reverse', label: 'Reverse 2024', feature: 'reverse' },
    { key: 'status', label: 'File', value: (r) => r.status, text: (r) => (r.status === 'ok' ? '' : r.status) },
  ];

  const save = () => vscode.setState(state);
  const natural = (a, b) => String(a).localeCompare(String(b), 'en', { numeric: true });
  const VERDICT_ORDER = { fixed: 0, conditional: 1, partial: 2, missing: 3, unknown: 4 };

  function sortValue(col, r) {
    if (col.cell) return VERDICT_ORDER[r[col.cell].verdict] * 100 + (r[col.cell].variant || '').length;
    if (col.feature) return r[col.feature].present === true ? 0 : r[col.feature].present === false ? 1 : 2;
    return col.value(r);
  }

  function matches(r) {
    if (state.kind && r.kind !== state.kind) return false;
    const f = state.filter.trim();
    if (f) {
      let ok = false;
      if (f.length > 2 && f.startsWith('/') && f.endsWith('/')) {
        try {
          ok = new RegExp(f.slice(1, -1)).test(r.short);
        } catch {
          ok = false;
        }
      } else ok = r.short.toLowerCase().includes(f.toLowerCase()) || (r.note || '').toLowerCase().includes(f.toLowerCase());
      if (!ok) return false;
    }
    const races = [r.race1, r.race2, r.race3];
    switch (state.only) {
      case 'race1:missing': return r.race1.verdict === 'missing';
      case 'race2:missing': return r.race2.verdict === 'missing';
      case 'race3:missing': return r.race3.verdict === 'missing';
      case 'any:not-fixed': return races.some((c) => c.verdict !== 'fixed');
      case 'azure': return races.some((c) => (c.variant || '').startsWith('azure'));
      case 'disagree': return races.some((c) => !!c.disagreement);
      case 'status:other': return r.status !== 'ok';
      default: return true;
    }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** A link that opens one evidence pointer in the editor. */
  function evidenceLink(p, text) {
    const a = el('a', 'evidence', text);
    a.href = '#';
    a.title = `${p.layer === 'history' ? 'commit ' + p.ref : p.ref + ':' + p.path + (p.line ? ':' + p.line : '')}\n${p.site}`;
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      vscode.postMessage({ type: 'open', pointer: p });
    });
    return a;
  }

  function raceTd(c) {
    const td = el('td', `verdict v-${c.verdict}${c.disagreement ? ' disagree' : ''}`);
    td.title = c.explain + (c.disagreement ? `\n⚠ ${c.disagreement}` : '');
    const label = c.verdict + (c.variant ? ` · ${c.variant}` : '');
    const p = c.evidence.find((e) => e.supports) || c.evidence[0];
    td.append(p ? evidenceLink(p, label) : el('span', '', label));
    if (c.disagreement) td.append(el('span', 'flag', ' ⚠'));
    const h = c.evidence.find((e) => e.layer === 'history' && e !== p);
    if (h) td.append(' ', evidenceLink(h, '⟲'));
    return td;
  }

  function featureTd(f) {
    const text = f.present === 'unknown' ? 'unknown' : f.present ? 'yes' : 'no';
    const td = el('td', `feature f-${String(f.present)}`);
    td.title = f.explain;
    const p = f.evidence.find((e) => e.supports) || f.evidence[0];
    td.append(p ? evidenceLink(p, text) : el('span', '', text));
    return td;
  }

  function renderHead() {
    const thead = /** @type {HTMLTableElement} */ ($('matrix')).tHead;
    thead.textContent = '';
    const tr = el('tr');
    for (const col of COLS) {
      const th = el('th', state.sort === col.key ? (state.dir > 0 ? 'sorted asc' : 'sorted desc') : '', col.label);
      th.tabIndex = 0;
      th.setAttribute('role', 'columnheader');
      th.setAttribute('aria-sort', state.sort === col.key ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
      const sortBy = () => {
        state.dir = state.sort === col.key ? -state.dir : 1;
        state.sort = col.key;
        save();
        render();
      };
      th.addEventListener('click', sortBy);
      th.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && sortBy());
      tr.append(th);
    }
    thead.append(tr);
  }

  function renderEvents() {
    const box = $('events');
    box.textContent = '';
    if (!matrix) return;
    const section = (title, items, fmt) => {
      if (!items.length) return;
      box.append(el('h2', '', title));
      const ul = el('ul');
      for (const it of items) ul.append(el('li', '', fmt(it)));
      box.append(ul);
    };
    section('Where each fix entered', matrix.entered, (e) => `${e.fix} on ${e.line}: ${e.ref}${e.variant ? ` (${e.variant})` : ''}`);
    section('Where a fix was lost', matrix.lost, (l) => `${l.fix} on ${l.line}: lost at ${l.ref} after ${l.lastCarrying} — ${l.cause}: ${l.explain}`);
    section('Where a lost fix came back', matrix.restored, (r) => `${r.fix} on ${r.line}: back at ${r.ref} (lost at ${r.lostAt})`);
    section('Warnings', matrix.warnings, (w) => w);
  }

  function render() {
    renderHead();
    const tbody = /** @type {HTMLTableElement} */ ($('matrix')).tBodies[0];
    tbody.textContent = '';
    if (!matrix) return;
    const col = COLS.find((c) => c.key === state.sort) || COLS[0];
    const rows = matrix.rows.filter(matches).sort((a, b) => {
      const x = sortValue(col, a);
      const y = sortValue(col, b);
      return (typeof x === 'number' && typeof y === 'number' ? x - y : natural(x, y)) * state.dir || natural(a.short, b.short);
    });
    const frag = document.createDocumentFragment();
    for (const r of rows) {
      const tr = el('tr', `row-${r.status}`);
      for (const c of COLS) {
        if (c.cell) tr.append(raceTd(r[c.cell]));
        else if (c.feature) tr.append(featureTd(r[c.feature]));
        else {
          const td = el('td', c.key, c.text ? c.text(r) : String(c.value(r)));
          if (c.key === 'ref') td.title = `${r.ref}\n${r.commit || ''}${r.path && r.status !== 'ok' ? `\n${r.path}` : ''}`;
          if (c.key === 'status' && r.note) td.title = r.note;
          tr.append(td);
        }
      }
      frag.append(tr);
    }
    tbody.append(frag);
    const s = matrix.stats;
    $('status').textContent = `${note ? note + ' · ' : ''}${rows.length} of ${matrix.rows.length} refs shown · ${s.distinctBlobs} distinct blobs · swept in ${(s.ms.total / 1000).toFixed(1)} s`;
    renderEvents();
  }

  filterEl.addEventListener('input', () => {
    state.filter = filterEl.value;
    save();
    render();
  });
  onlyEl.addEventListener('change', () => {
    state.only = onlyEl.value;
    save();
    render();
  });
  kindEl.addEventListener('change', () => {
    state.kind = kindEl.value;
    save();
    render();
  });
  $('rerun').addEventListener('click', () => {
    state.refs = refsEl.value;
    save();
    vscode.postMessage({ type: 'rerun', refs: refsEl.value.split(/\s+/).filter(Boolean) });
  });
  for (const b of document.querySelectorAll('[data-export]')) {
    b.addEventListener('click', () => vscode.postMessage({ type: 'export', format: /** @type {HTMLElement} */ (b).dataset.export }));
  }

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (m.type === 'matrix') {
      matrix = m.matrix;
      note = typeof m.note === 'string' ? m.note : '';
      state.repo = matrix.repo;
      state.selection = matrix.selection;
      save();
      document.body.classList.remove('busy');
      render();
    } else if (m.type === 'target') {
      state.repo = m.repo;
      state.selection = m.refs;
      if (!state.refs && m.refs.length) {
        state.refs = m.refs.join(' ');
        refsEl.value = state.refs;
      }
      save();
    } else if (m.type === 'busy') {
      document.body.classList.add('busy');
      $('status').textContent = m.message;
    } else if (m.type === 'error' || m.type === 'restricted') {
      document.body.classList.remove('busy');
      $('status').textContent = m.message;
    }
  });
  render();
  vscode.postMessage({ type: 'ready' });
})();

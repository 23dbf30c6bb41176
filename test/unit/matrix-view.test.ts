// The matrix view's pure side: page message validation, conntrack-ref: addresses, the CSP'd
// shell. The page's logic is in matrix-page.test.ts; its DOM runs in the editor suites.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { matrixHtml } from '../../src/matrix/html';
import { parseRefDocumentQuery, parseToHost, refDocumentQuery, safeRepoPath, SHOW_MATRIX_COMMAND } from '../../src/matrix/protocol';

const SHA = 'a'.repeat(40);

test('page messages are validated before the host acts on them', () => {
  assert.deepEqual(parseToHost({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseToHost({ type: 'export', format: 'csv' }), { type: 'export', format: 'csv' });
  assert.deepEqual(parseToHost({ type: 'cancel', extra: 1 }), { type: 'cancel' });
  assert.equal(parseToHost({ type: 'export', format: 'exe' }), null);
  assert.deepEqual(parseToHost({ type: 'rerun', refs: ['v4.*', '--all', 3, ' tags '] }), { type: 'rerun', refs: ['v4.*', 'tags'] });
  const open = parseToHost({
    type: 'open',
    pointer: {
      ref: 'v5.0',
      commit: SHA,
      path: 'net/netfilter/nf_conntrack_core.c',
      line: 12,
      endLine: 20,
      layer: 'source',
      site: 's',
      supports: true,
    },
  });
  assert.equal(open?.type, 'open');
  assert.equal(parseToHost({ type: 'open', pointer: { commit: '--output=x', path: 'a.c' } }), null);
  assert.equal(parseToHost({ type: 'open', pointer: { commit: SHA, path: '../../etc/passwd' } }), null);
  assert.equal(parseToHost({ type: 'open', pointer: { commit: SHA, path: '/etc/passwd' } }), null);
  assert.equal(parseToHost('nope'), null);
  assert.ok(!safeRepoPath('-p'));
  assert.ok(safeRepoPath('linux-5.0.1/net/netfilter/nf_conntrack_core.c'));
});

test('conntrack-ref: queries round-trip and refuse unsafe parts', () => {
  const d = { repo: '/r/linux', commit: SHA, path: 'net/netfilter/nf_conntrack_core.c', ref: 'Ubuntu-4.15.0-20.21', show: 'file' as const };
  assert.deepEqual(parseRefDocumentQuery(refDocumentQuery(d)), d);
  assert.equal(parseRefDocumentQuery(refDocumentQuery({ ...d, commit: 'HEAD' })), null);
  assert.equal(parseRefDocumentQuery(refDocumentQuery({ ...d, path: 'a/../../b' })), null);
});

test('the page shell has a strict nonce CSP and loads only the given script and style', () => {
  const html = matrixHtml({
    cspSource: 'vscode-resource:',
    nonce: 'N0nce',
    scriptUri: 'vscode-resource:/x/dist/matrix.js',
    styleUri: 'vscode-resource:/x/media/matrix.css',
  });
  assert.match(html, /default-src 'none'/);
  assert.match(html, /script-src 'nonce-N0nce'/);
  assert.match(html, /<script nonce="N0nce" src="vscode-resource:\/x\/dist\/matrix\.js">/);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
  assert.equal(SHOW_MATRIX_COMMAND, 'conntrackBackport.showMatrix');
});

test('the page sources render with text nodes only', () => {
  const dirs = ['src/matrix/page', 'src/webview/page'].map((d) => path.join(__dirname, '../../..', d));
  const files = dirs.flatMap((d) => fs.readdirSync(d).map((f) => path.join(d, f)));
  assert.ok(files.some((f) => f.endsWith('main.ts')));
  for (const f of files) assert.doesNotMatch(fs.readFileSync(f, 'utf8'), /innerHTML|outerHTML|insertAdjacentHTML|eval\(/, f);
});

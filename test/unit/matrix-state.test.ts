// Restoring the matrix view after a reload, its pure parts: the page state the serializer gets
// back (validated; the page imports the same state module, so there is nothing to keep in step
// but the shell's options), and the kept sweep
// on disk (reused only while no ref has moved), against a real repository.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { FastImportWriter } from '../../src/core/fixtures/fastimport';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { sweep } from '../../src/core/matrix';
import { cacheFileName, loadMatrix, refsFingerprint, saveMatrix } from '../../src/core/matrix/cache';
import { matrixHtml } from '../../src/matrix/html';
import { MATRIX_VIEW_TYPE } from '../../src/matrix/protocol';
import {
  cleanRefs,
  DEFAULT_PAGE_STATE,
  KIND_OPTIONS,
  normalizePageState,
  ONLY_OPTIONS,
  ONLY_VALUES,
  restoreTarget,
  SORT_KEYS,
} from '../../src/matrix/state';

const ROOT = path.join(__dirname, '../../..');

describe('matrix page state', () => {
  test('a saved state comes back as it was; unknown or bad fields fall back to the defaults', () => {
    const saved = {
      filter: 'v4.19',
      only: 'race2:missing',
      kind: 'tag',
      sort: 'race2',
      dir: -1,
      refs: 'v4.* Ubuntu-*',
      repo: '/src/linux',
      selection: ['v4.*', 'Ubuntu-*'],
    };
    assert.deepEqual(normalizePageState(saved), saved);
    assert.deepEqual(normalizePageState(undefined), DEFAULT_PAGE_STATE);
    assert.deepEqual(
      normalizePageState({ only: 'rm -rf', kind: 'blob', sort: '__proto__', dir: 7, filter: 3, refs: 'x'.repeat(5000) }),
      DEFAULT_PAGE_STATE,
    );
  });

  test('the restore target needs an absolute repository; option-like ref patterns are dropped', () => {
    assert.deepEqual(restoreTarget({ repo: '/src/linux/', selection: ['v4.*', '--all', ' tags ', 7, ''] }), {
      repo: path.normalize('/src/linux/'),
      refs: ['v4.*', 'tags'],
    });
    assert.equal(restoreTarget({ repo: 'linux' }), null);
    assert.equal(restoreTarget({ filter: 'x' }), null, 'a panel closed before its first sweep names nothing');
    assert.equal(restoreTarget({ repo: '/src/linux\n' }), null);
    assert.equal(restoreTarget(null), null);
    assert.deepEqual(cleanRefs('v4.*'), []);
  });

  test('the shell offers exactly the show-only and kind values the state accepts, with their labels', () => {
    const html = matrixHtml({ cspSource: 'c', nonce: 'n', scriptUri: 's', styleUri: 't' });
    const options = (id: string): [string, string][] =>
      [...new RegExp(`<select id="${id}"[^>]*>([\\s\\S]*?)</select>`).exec(html)![1].matchAll(/value="([^"]*)">([^<]*)</g)].map((m) => [
        m[1],
        m[2],
      ]);
    assert.deepEqual(
      options('only'),
      ONLY_OPTIONS.map((o) => [o.value, o.label]),
    );
    assert.deepEqual(
      options('kind'),
      KIND_OPTIONS.map((o) => [o.value, o.label]),
    );
    assert.ok(ONLY_VALUES.includes('race4:missing') && SORT_KEYS.includes('race4'));
    // A state saved with the race 4 filter and sort comes back as it was.
    const s = normalizePageState({ ...DEFAULT_PAGE_STATE, only: 'race4:missing', sort: 'race4', dir: -1 });
    assert.equal(s.only, 'race4:missing');
    assert.equal(s.sort, 'race4');
    for (const id of [
      'filter',
      'refs',
      'rerun',
      'cancel',
      'notice',
      'progress',
      'progress-bar',
      'progress-text',
      'status',
      'matrix',
      'events',
    ])
      assert.match(html, new RegExp(`id="${id}"`), `the page script needs #${id}`);
  });

  test('a reload activates the extension for the matrix panel', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { activationEvents: string[] };
    assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${MATRIX_VIEW_TYPE}`));
  });
});

describe('kept sweep', () => {
  let tmp: string;
  let repo: string;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-matrix-state-'));
    repo = path.join(tmp, 'linux');
    const w = new FastImportWriter();
    const f = 'net/netfilter/nf_conntrack_core.c';
    const a = w.commit({
      ref: 'refs/heads/master',
      files: { [f]: generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'none', seed: 2 }).text },
      message: 'a\n',
      time: 1_600_000_000,
    });
    w.tag('v1', a, 'v1\n', 1_600_000_010);
    const b = w.commit({
      ref: 'refs/heads/master',
      from: a,
      files: { [f]: generateConntrackCore({ era: '4.19', race1: 'upstream', race2: 'upstream', seed: 2 }).text },
      message: 'b\n',
      time: 1_600_000_100,
    });
    w.resetBranch('refs/heads/master', b);
    await w.run(repo);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('reused for the same repository and selection while no ref moves', async () => {
    const keep = path.join(tmp, 'keep');
    const m = await sweep(repo, { refs: ['all'] });
    const fp = await refsFingerprint(repo);
    const file = saveMatrix(keep, m, ['all'], fp);
    assert.equal(path.dirname(file), keep);
    assert.match(path.basename(file), /^matrix-[0-9a-f]{32}\.json$/);
    assert.deepEqual(loadMatrix(keep, repo + '/', ['all'], await refsFingerprint(repo)), m);
    assert.equal(loadMatrix(keep, repo, ['v*'], fp), null, 'another selection');
    assert.equal(loadMatrix(path.join(tmp, 'nowhere'), repo, ['all'], fp), null);
    // A new tag changes the fingerprint: the kept sweep is no longer shown.
    execFileSync('git', ['tag', 'v2', 'master'], { cwd: repo });
    assert.equal(loadMatrix(keep, repo, ['all'], await refsFingerprint(repo)), null);
    execFileSync('git', ['tag', '-d', 'v2'], { cwd: repo });
    assert.ok(loadMatrix(keep, repo, ['all'], await refsFingerprint(repo)));
    // A damaged file reads as nothing kept.
    fs.writeFileSync(file, '{"version":1,');
    assert.equal(loadMatrix(keep, repo, ['all'], fp), null);
  });

  test('file names are hashes: no part of a repository path or pattern reaches the file system', () => {
    const n = cacheFileName('/a/../../etc', ['../../x', '/y']);
    assert.match(n, /^matrix-[0-9a-f]{32}\.json$/);
    assert.notEqual(cacheFileName('/r', ['a b']), cacheFileName('/r', ['a', 'b']));
  });
});

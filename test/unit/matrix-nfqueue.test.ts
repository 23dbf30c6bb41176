// Race 4 in the sweep reads nfnetlink_queue.c beside the conntrack file, as detectPath does: on
// the real files of Debian's linux-source-6.1 and -6.12 (extracted outside the repository by the
// debian helper) and on generated files with and without the reinject hook call or the file,
// every ref's race-4 cell equals detectPath on the same files, and its evidence points into
// nfnetlink_queue.c at the ref.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectPath } from '../../src/core/detect';
import { generateConntrackCore, generateNfqueue } from '../../src/core/fixtures/generate';
import { Matrix, sweep } from '../../src/core/matrix';
import { DEBIAN_FILES, debianTree } from './helpers/debian';

let tmp: string;
let repo: string;
/** Tag -> directory holding the files committed there. */
const trees = new Map<string, string>();
let matrix: Matrix;

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
  GIT_AUTHOR_DATE: '1700000000 +0000',
  GIT_COMMITTER_DATE: '1700000000 +0000',
};
const git = (...a: string[]): string => execFileSync('git', a, { cwd: repo, env }).toString().trim();

function commitTree(tag: string, files: Record<string, string | Buffer>): void {
  const dir = path.join(tmp, 'trees', tag);
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  trees.set(tag, dir);
  git('rm', '-rq', '--ignore-unmatch', 'net');
  fs.cpSync(path.join(dir, 'net'), path.join(repo, 'net'), { recursive: true });
  git('add', '-A');
  git('commit', '-qm', tag);
  git('tag', tag);
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctb-nfq-'));
  repo = path.join(tmp, 'linux');
  fs.mkdirSync(repo);
  git('init', '-q', '-b', 'master');
  const core = generateConntrackCore({ era: '6.13', seed: 3, race1: 'upstream', fullSize: false }).text;
  const [CORE, , NFQ] = DEBIAN_FILES;
  commitTree('gen-hook', { [CORE]: core, [NFQ]: generateNfqueue({ hook: true }) });
  commitTree('gen-nohook', { [CORE]: core, [NFQ]: generateNfqueue({ hook: false }) });
  commitTree('gen-nofile', { [CORE]: core });
  for (const v of ['6.1', '6.12']) {
    const root = debianTree(v);
    commitTree(`debian-${v}`, Object.fromEntries(DEBIAN_FILES.map((f) => [f, fs.readFileSync(path.join(root, f))])));
  }
  matrix = await sweep(repo, { refs: ['tags'] });
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('race 4 of every ref equals detectPath on the files committed there (real Debian 6.1 / 6.12 and generated)', async () => {
  const seen = new Set<string>();
  for (const [tag, dir] of trees) {
    const row = matrix.rows.find((r) => r.short === tag);
    assert.ok(row, tag);
    const direct = await detectPath(dir, { history: false });
    assert.equal(row.race4.verdict, direct.races.race4.verdict, `${tag}: ${row.race4.explain} vs ${direct.races.race4.explain}`);
    assert.equal(row.race4.variant, direct.races.race4.variant, tag);
    assert.equal(row.race4.explain, direct.races.race4.explain, tag);
    for (const k of ['race1', 'race2', 'race3'] as const) assert.equal(row[k].verdict, direct.races[k].verdict, `${tag} ${k}`);
    seen.add(row.race4.verdict);
  }
  // The file's presence and content matter: the refs do not all read the same.
  assert.ok(seen.size >= 2, [...seen].join(', '));
  assert.equal(matrix.rows.find((r) => r.short === 'debian-6.1')!.race4.verdict, 'missing');
  assert.equal(matrix.rows.find((r) => r.short === 'debian-6.12')!.race4.verdict, 'fixed');
});

test('nfqueue evidence points into nfnetlink_queue.c at the ref', () => {
  const row = matrix.rows.find((r) => r.short === 'debian-6.1')!;
  const p = row.race4.evidence.find((e) => /nf_ct_hook->update\(\) on reinject/.test(e.site));
  assert.ok(p, JSON.stringify(row.race4.evidence.map((e) => e.site)));
  assert.equal(p.path, 'net/netfilter/nfnetlink_queue.c');
  assert.equal(p.ref, 'debian-6.1');
  assert.ok(p.line && p.line > 1);
});

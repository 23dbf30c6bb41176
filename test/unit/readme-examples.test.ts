// Every CLI example in README.md, run as written on the demo repository (placeholders filled
// in), through the bundled dist/cli.js: each must exit 0 with output and one-line stderr at most
// per message. A new example with a placeholder this test does not know fails it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, git } from './helpers';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli.js');

/** Shell-like split: words, single and double quotes (no expansion: the README's globs are quoted). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function examples(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/^ {4}(node dist\/cli\.js .*)$/gm)].map((m) => m[1].trim());
}

// Written for this test: two CPUs of a node that saw clashes.
const STATS =
  'cpu=0 found=12 invalid=3 insert=0 insert_failed=41 drop=41 early_drop=0 error=0 search_restart=2 clash_resolve=0 chaintoolong=0\ncpu=1 found=9 invalid=1 insert=0 insert_failed=37 drop=37 early_drop=0 error=0 search_restart=1 clash_resolve=0 chaintoolong=0\n';

test('every CLI example in README.md runs as written on the demo repository', () => {
  const ex = examples();
  assert.ok(ex.length >= 8, `found ${ex.length} examples`);
  const dir = path.join(tmpDir('ctb-readme-'), 'demo');
  const tree = path.join(dir, 'tree');
  const work = tmpDir('ctb-readme-files-');
  const stats = path.join(work, 'conntrack-S.txt');
  fs.writeFileSync(stats, STATS);
  const fill: Record<string, string> = {
    '<dir>': dir,
    '<kernel-tree | nf_conntrack_core.c>': tree,
    '<kernel-tree>': tree,
    '<repo>': tree,
    '<file with conntrack -S output>': stats,
  };
  // demo-repo first: the others read what it made.
  const ordered = [...ex.filter((e) => / demo-repo /.test(e)), ...ex.filter((e) => !/ demo-repo /.test(e))];
  assert.match(ordered[0], / demo-repo /, 'README shows how to make the demo repository');
  for (const e of ordered) {
    if (e.includes('<patch-or-mbox>') && !fill['<patch-or-mbox>']) {
      // The two upstream fixes as the mbox a user would download (format-patch of the demo's upstream).
      const mbox = path.join(work, 'fixes.mbox');
      fs.writeFileSync(mbox, git(path.join(dir, 'upstream.git'), 'format-patch', '--stdout', 'master~2..master'));
      fill['<patch-or-mbox>'] = mbox;
    }
    let line = e;
    for (const [k, v] of Object.entries(fill)) line = line.split(k).join(v);
    assert.doesNotMatch(line, /<[^>]+>/, `unknown placeholder in README example: ${e}`);
    const argv = words(line).slice(2); // drop "node dist/cli.js"
    const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, `${e}\nexit ${r.status}\n${r.stderr}`);
    assert.ok(r.stdout.trim().length > 0, `${e}: no output`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, `${e}: stack trace`);
    if (/ sweep /.test(e)) assert.match(r.stdout, /^\| (v4\.|Ubuntu-|azure-)/m, `${e}: the matrix has rows`);
    if (/ simulate /.test(e)) assert.match(r.stdout, /packets dropped: [1-9]/, `${e}: the demo tree drops in this scenario`);
    if (/ check-patch /.test(e))
      assert.equal(
        r.stdout.split('\n').filter((l) => /^\S.*: (applied|not-applied|partially-applied)/.test(l)).length,
        2,
        `${e}: two patches, two reports`,
      );
  }
});

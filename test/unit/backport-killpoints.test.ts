// Kill points: a git shim on PATH counts the git processes a normal `backport --apply --stash`
// starts and SIGKILLs the CLI right before, or right after, the n-th one — for every n. Then
// the run is resumed or aborted (each kill state is tried both ways, on two copies), and each
// run must end exactly planned or exactly original: HEAD, branches, index, work tree,
// untracked files, the user's own stash entry, no journal and no leftover refs except the
// documented backup ref.
//
// Setup is shared: one template repository is built once and copied per run. The unit suite
// runs every kill point from the first git process after the planning phase (the last one in a
// throw-away preview repository) on, and every 6th before it (planning only reads); set
// CONNTRACK_BACKPORT_KILLPOINTS=all to run every point of both phases.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abortRun, pendingRun, resumeRun } from '../../src/core/backport';
import { applyArgs, CLI, CORE, demo, git, ROOT, snapshot, Snapshot } from './helpers/backport';

const REAL_GIT = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
const SHIM_DIR = path.join(ROOT, 'git-shim');

/** Counts only processes whose parent is the CLI (node), not git's own children. */
function writeShim(): void {
  fs.mkdirSync(SHIM_DIR, { recursive: true });
  fs.writeFileSync(
    path.join(SHIM_DIR, 'git'),
    `#!/bin/sh
if [ "$(cat /proc/$PPID/comm 2>/dev/null)" != "node" ]; then exec "${REAL_GIT}" "$@"; fi
exec 9>>"$SHIM_COUNTER.lock"
flock 9
n=$(( $(cat "$SHIM_COUNTER" 2>/dev/null || echo 0) + 1 ))
echo $n > "$SHIM_COUNTER"
flock -u 9
if [ -n "$SHIM_LOG" ]; then echo "$n $PWD $*" >> "$SHIM_LOG"; fi
if [ "$n" = "$SHIM_KILL_BEFORE" ]; then kill -9 $PPID; exit 137; fi
"${REAL_GIT}" "$@"
rc=$?
if [ "$n" = "$SHIM_KILL_AFTER" ]; then kill -9 $PPID; fi
exit $rc
`,
    { mode: 0o755 },
  );
}

interface Template {
  dir: string;
  args: (tree: string) => string[];
}

async function template(): Promise<Template & { before: Snapshot }> {
  const r = await demo({ scenario: 'azure' });
  const t = r.tree;
  // The user's state: a stash entry of their own, a second branch, staged + unstaged changes, an untracked file.
  fs.appendFileSync(path.join(t, 'README'), 'stashed by the user long ago\n');
  git(t, ['stash', 'push', '--quiet', '-m', 'my own experiment']);
  git(t, ['branch', 'topic/second', `${r.head}~1`]);
  fs.appendFileSync(path.join(t, 'README'), 'unstaged line\n');
  fs.appendFileSync(path.join(t, 'Makefile'), '# staged line\n');
  git(t, ['add', 'Makefile']);
  fs.writeFileSync(path.join(t, 'scratch.txt'), 'untracked, mine\n');
  const dir = path.dirname(t);
  return {
    dir,
    before: snapshot(t),
    args: (tree) => [...applyArgs(r, {}, tree), '--stash', '--json'],
  };
}

let copies = 0;
function copyOf(dir: string): string {
  const to = path.join(ROOT, `kp${++copies}`);
  fs.cpSync(dir, to, { recursive: true });
  // The remote points at the template's bare repository (read only), which stays in place.
  return path.join(to, 'tree');
}

function runShimmed(args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: string | null; stdout: string }> {
  return new Promise((resolve) => {
    const tmp = fs.mkdtempSync(path.join(ROOT, 'tmp-'));
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, PATH: `${SHIM_DIR}:${process.env.PATH}`, TMPDIR: tmp, ...env },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (code, signal) => {
      fs.rmSync(tmp, { recursive: true, force: true });
      resolve({ code, signal, stdout });
    });
  });
}

/** The planned end state without the run-specific ids (commit dates differ per run). */
function plannedView(tree: string): Record<string, string> {
  const s = snapshot(tree, { ignoreBackupRefs: true });
  const refs = git(tree, ['for-each-ref', '--format=%(refname)']).split('\n');
  return {
    branch: s.branch,
    chain: git(tree, ['log', '--format=%T %s%n%b', 'master..HEAD']),
    status: s.status,
    index: s.index,
    stash: s.stash,
    files: s.files,
    master: git(tree, ['rev-parse', 'master']),
    second: git(tree, ['rev-parse', 'topic/second']),
    refs: refs.map((r) => (r.startsWith('refs/conntrack-backport/backup/') ? 'backup' : r)).join('\n'),
    journal: String(fs.existsSync(path.join(tree, '.git', 'conntrack-backport', 'journal.json'))),
  };
}

test(
  'kill before/after every git process of a normal apply, then resume or abort: always exactly planned or exactly original',
  { timeout: 1_800_000 },
  async () => {
    writeShim();
    const tpl = await template();
    const counter = path.join(ROOT, 'count-ref');
    // The reference run: how many git processes, and the planned end state.
    const refTree = copyOf(tpl.dir);
    const log = path.join(ROOT, 'count-ref.log');
    const ref = await runShimmed(tpl.args(refTree), { SHIM_COUNTER: counter, SHIM_LOG: log });
    assert.equal(ref.code, 0, ref.stdout);
    const total = Number(fs.readFileSync(counter, 'utf8').trim());
    const planned = plannedView(refTree);
    assert.equal(planned.branch, 'refs/heads/conntrack-backport/bionic');
    assert.equal(git(refTree, ['stash', 'list', '--format=%s']), 'On master: my own experiment');
    assert.ok(fs.readFileSync(path.join(refTree, CORE), 'latin1').includes('ignored_conntrack->tuplehash[IP_CT_DIR_ORIGINAL]'));

    const outcomes: Record<string, number> = {};
    const count = (k: string): void => void (outcomes[k] = (outcomes[k] ?? 0) + 1);
    const failures: string[] = [];
    const check = async (label: string, tree: string, how: 'resume' | 'abort'): Promise<void> => {
      const pending = await pendingRun(tree);
      const res = how === 'resume' ? await resumeRun(tree) : await abortRun(tree);
      const original = JSON.stringify(snapshot(tree)) === JSON.stringify(tpl.before);
      const isPlanned = JSON.stringify(plannedView(tree)) === JSON.stringify(planned);
      if (how === 'resume' && isPlanned && res.status === 'done') count('resume: planned');
      else if (how === 'resume' && !pending && original && res.status === 'refused') count('resume: original (killed before the journal)');
      else if (how === 'abort' && original && (res.status === 'aborted' || (!pending && res.status === 'refused')))
        count(`abort: original${pending ? '' : ' (no journal)'}`);
      else {
        const what = `${label} [${lines[Number(label.split('#')[1]) - 1]}] ${how}: status ${res.status} (${res.message}); original=${original} planned=${isPlanned}\n${JSON.stringify({ got: plannedView(tree), want: planned }, null, 1).slice(0, 3000)}`;
        failures.push(what);
        console.log(`FAILED ${what}`);
      }
    };

    const points: { label: string; env: Record<string, string> }[] = [];
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    const lastPreview = Math.max(
      0,
      ...lines.filter((l) => /\/tmp-[^/ ]+\//.test(l.split(' ')[1] + '/')).map((l) => Number(l.split(' ')[0])),
    );
    assert.ok(lastPreview > 0 && lastPreview < total, `planning ends at #${lastPreview} of ${total}`);
    const all = process.env.CONNTRACK_BACKPORT_KILLPOINTS === 'all';
    for (let n = 1; n <= total; n++) {
      if (!all && n <= lastPreview && n % 6 !== 1) continue;
      points.push({ label: `before #${n}`, env: { SHIM_KILL_BEFORE: String(n) } });
      points.push({ label: `after #${n}`, env: { SHIM_KILL_AFTER: String(n) } });
    }
    let killedRuns = 0;
    const one = async (p: (typeof points)[number], i: number): Promise<void> => {
      const tree = copyOf(tpl.dir);
      const out = await runShimmed(tpl.args(tree), { SHIM_COUNTER: path.join(ROOT, `count-${i}`), ...p.env });
      if (out.signal === 'SIGKILL') killedRuns++;
      else count(`not killed (exit ${out.code})`);
      const twin = path.join(path.dirname(tree) + '-twin', 'tree');
      fs.cpSync(path.dirname(tree), path.dirname(twin), { recursive: true });
      await check(p.label, tree, 'resume');
      await check(p.label, twin, 'abort');
      fs.rmSync(path.dirname(tree), { recursive: true, force: true });
      fs.rmSync(path.dirname(twin), { recursive: true, force: true });
    };
    // Two CLI runs at a time (the machine has two cores).
    for (let i = 0; i < points.length; i += 2) await Promise.all(points.slice(i, i + 2).map((p, k) => one(p, i + k)));
    console.log(
      `kill points: ${total} git processes in a normal apply (planning #1-#${lastPreview}${all ? '' : ', sampled every 6th'}); ${points.length} kill runs (${killedRuns} killed), ${points.length * 2} recoveries: ${JSON.stringify(outcomes)}`,
    );
    assert.deepEqual(failures, []);
    assert.equal(killedRuns, points.length, 'every run was killed at its point');
  },
);

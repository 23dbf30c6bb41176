// One long-lived `git cat-file --batch` process: requests go in on stdin one object name per
// line, answers come back framed as `<sha> <type> <size>\n<content>\n` (or `<name> missing`).
// Parsing works on Buffers so a blob's bytes are never re-encoded before the detector sees them.

import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { PACK_BOUNDS } from './bounds';
import { gitLines, gitRun, gitSpawn } from './run';

export interface CatFileObject {
  sha: string;
  type: string;
  content: Buffer;
}

interface Pending {
  name: string;
  resolve: (o: CatFileObject | null) => void;
  reject: (e: Error) => void;
}

export class CatFileBatch {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private failed: Error | null = null;
  private stderr = '';

  constructor(readonly repo: string) {
    this.child = gitSpawn(repo, [...PACK_BOUNDS, 'cat-file', '--batch']);
    this.child.stdout.on('data', (b: Buffer) => this.onData(b));
    this.child.stderr.on('data', (b: Buffer) => (this.stderr += b.toString('utf8')));
    this.child.stdin.on('error', (e) => this.fail(e));
    this.child.on('error', (e) => this.fail(e));
    this.child.on('close', (code) => this.fail(new Error(`git cat-file --batch exited (${code}) ${this.stderr.trim()}`)));
  }

  /** Content of one object, or null when git says it is missing. */
  read(name: string): Promise<CatFileObject | null> {
    if (this.failed) return Promise.reject(this.failed);
    // A newline would split the request into two and desynchronise the answers.
    if (/[\n\r]/.test(name)) return Promise.reject(new Error('object name contains a newline'));
    return new Promise((resolve, reject) => {
      this.queue.push({ name, resolve, reject });
      this.child.stdin.write(name + '\n');
    });
  }

  close(): void {
    this.child.stdin.end();
    if (!this.child.killed && this.child.exitCode === null)
      setTimeout(() => this.child.exitCode === null && this.child.kill(), 2000).unref();
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    for (const p of this.queue.splice(0)) p.reject(e);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const p = this.queue[0];
      if (!p) return;
      const nl = this.buf.indexOf(10);
      if (nl < 0) return;
      const header = this.buf.toString('utf8', 0, nl);
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buf = this.buf.subarray(nl + 1);
        this.queue.shift();
        p.resolve(null);
        continue;
      }
      const [sha, type, sizeText] = header.split(' ');
      const size = Number(sizeText);
      if (!Number.isInteger(size)) {
        this.fail(new Error(`git cat-file: unexpected header '${header}' for ${p.name}`));
        return;
      }
      // Content plus its trailing newline must be complete before the answer is taken.
      if (this.buf.length < nl + 1 + size + 1) return;
      const content = Buffer.from(this.buf.subarray(nl + 1, nl + 1 + size));
      this.buf = this.buf.subarray(nl + 1 + size + 1);
      this.queue.shift();
      p.resolve({ sha, type, content });
    }
  }
}

export interface CheckAnswer {
  name: string;
  sha: string | null;
  type: string | null;
  size: number;
}

/** `git cat-file --batch-check` over many names in one process (names in, one answer each). */
export async function batchCheck(repo: string, names: string[], signal?: AbortSignal): Promise<CheckAnswer[]> {
  if (!names.length) return [];
  for (const n of names) if (/[\n\r]/.test(n)) throw new Error('object name contains a newline');
  const out = await gitRun(repo, [...PACK_BOUNDS, 'cat-file', '--batch-check', '--buffer'], { input: names.join('\n') + '\n', signal });
  const lines = out.toString('utf8').split('\n');
  return names.map((name, i) => checkAnswer(name, lines[i] ?? ''));
}

function checkAnswer(name: string, l: string): CheckAnswer {
  const parts = l.split(' ');
  // `<name> missing` repeats the name, which may itself contain spaces: test the tail.
  if (l.endsWith(' missing') || l.endsWith(' ambiguous') || parts.length !== 3) return { name, sha: null, type: null, size: 0 };
  return { name, sha: parts[0], type: parts[1], size: Number(parts[2]) };
}

/**
 * batchCheck with each answer handed to `onAnswer` (in order, with its index) as git writes it,
 * a few kilobytes at a time: the caller can act on the first answers while git resolves the rest.
 */
export async function batchCheckEach(
  repo: string,
  names: string[],
  onAnswer: (a: CheckAnswer, i: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (!names.length) return;
  for (const n of names) if (/[\n\r]/.test(n)) throw new Error('object name contains a newline');
  let i = 0;
  await gitLines(
    repo,
    [...PACK_BOUNDS, 'cat-file', '--batch-check', '--buffer'],
    (l) => {
      if (i < names.length) {
        const k = i++;
        onAnswer(checkAnswer(names[k], l), k);
      }
    },
    { input: names.join('\n') + '\n', signal },
  );
  for (; i < names.length; i++) onAnswer(checkAnswer(names[i], ''), i);
}

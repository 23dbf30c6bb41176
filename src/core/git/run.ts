// Running git directly with child_process for the bulk paths (sweep, fixtures) where
// simple-git's per-call overhead and string buffering would dominate. Always an argv array,
// never a shell.

import { spawn } from 'node:child_process';

export class GitError extends Error {
  constructor(readonly args: string[], readonly code: number | null, readonly stderr: string) {
    super(`git ${args.slice(0, 3).join(' ')}… failed (${code}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
}

export interface RunOptions {
  input?: string | Buffer;
  signal?: AbortSignal;
  /** Exit codes that are not failures (e.g. 1 for `merge-base` with no common ancestor). */
  okCodes?: number[];
}

/** Runs git in `cwd` and returns stdout as a Buffer. */
export function gitRun(cwd: string, args: string[], opts: RunOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal, env: gitEnv() });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) resolve(Buffer.concat(out));
      else reject(new GitError(args, code, Buffer.concat(err).toString('utf8')));
    });
    // A closed stdin (git exited early) must not crash the process with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export async function gitText(cwd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return (await gitRun(cwd, args, opts)).toString('utf8');
}

/** Keep user configuration from changing output formats (pagers, colours, replace refs). */
export function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_PAGER: 'cat', GIT_TERMINAL_PROMPT: '0', GIT_NO_REPLACE_OBJECTS: '1', LC_ALL: 'C' };
}

/**
 * Runs git and hands stdout to `onLine` line by line as it arrives (nothing is buffered
 * beyond one line). `onLine` returning false stops the process early: the walk is over.
 */
export function gitLines(cwd: string, args: string[], onLine: (line: string) => boolean | void, opts: RunOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal, env: gitEnv() });
    const err: Buffer[] = [];
    let rest = '';
    let stopped = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      if (stopped) return;
      const text = rest + s;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const line = text.slice(start, nl);
        start = nl + 1;
        if (onLine(line) === false) {
          stopped = true;
          child.kill();
          return;
        }
      }
      rest = text.slice(start);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (!stopped && rest && onLine(rest) === false) stopped = true;
      if (stopped || code === 0 || (code !== null && opts.okCodes?.includes(code))) resolve();
      else reject(new GitError(args, code, Buffer.concat(err).toString('utf8')));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

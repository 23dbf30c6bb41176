// The git port: every git process of the extension, the CLI and the fixtures starts here, with
// one environment, one error type and one place a test can watch. Always an argv array, never
// a shell. One-shot runs buffer stdout; gitPipe joins two processes (`a | b`); gitSpawn hands a
// long-lived process (cat-file --batch) to the module in this folder that frames its protocol.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(
      `git ${args.slice(0, 3).join(' ')}… failed (${code ?? 'killed'}): ${stderr.trim().split('\n').slice(-3).join(' / ') || 'no message'}`,
    );
    this.name = 'GitError';
  }
}

export interface RunOptions {
  input?: string | Buffer;
  signal?: AbortSignal;
  /** Exit codes that are not failures (e.g. 1 for `merge-base` with no common ancestor). */
  okCodes?: number[];
  /** Kill git after this long (the answer is then a GitError with code null). */
  timeoutMs?: number;
  /** Added to gitEnv() (fixtures: GIT_CONFIG_NOSYSTEM). */
  env?: Record<string, string>;
}

/** Keep user configuration from changing output formats (pagers, colours, locale, replace refs). */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, GIT_PAGER: 'cat', GIT_TERMINAL_PROMPT: '0', GIT_NO_REPLACE_OBJECTS: '1', LC_ALL: 'C', ...extra };
}

export interface GitProcessEvent {
  cwd: string;
  args: string[];
}
type Watcher = (e: GitProcessEvent) => void;
const watchers = new Set<Watcher>();
let started = 0;

/** Called for every git process this port starts (tests count them; nothing else needs it). */
export function watchGit(fn: Watcher): () => void {
  watchers.add(fn);
  return () => watchers.delete(fn);
}

/** How many git processes this port has started in this process. */
export function gitProcessCount(): number {
  return started;
}

/** A git process with piped stdio, the port's environment and the watchers told. */
export function gitSpawn(
  cwd: string,
  args: string[],
  opts: { signal?: AbortSignal; env?: Record<string, string> } = {},
): ChildProcessWithoutNullStreams {
  started++;
  for (const w of watchers) w({ cwd, args: [...args] });
  const child = spawn('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal, env: gitEnv(opts.env) });
  // A closed stdin (git exited early) must not crash the process with EPIPE.
  child.stdin.on('error', () => undefined);
  return child;
}

/** Runs git in `cwd` and returns stdout as a Buffer; any exit outside 0/okCodes is a GitError. */
export function gitRun(cwd: string, args: string[], opts: RunOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = gitSpawn(cwd, args, opts);
    } catch (e) {
      return reject(e instanceof Error ? e : new Error(String(e)));
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = opts.timeoutMs ? setTimeout(() => child.kill(), opts.timeoutMs) : undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) resolve(Buffer.concat(out));
      else reject(new GitError(args, code, Buffer.concat(err).toString('utf8')));
    });
    child.stdin.end(opts.input ?? '');
  });
}

export async function gitText(cwd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return (await gitRun(cwd, args, opts)).toString('utf8');
}

/** `git <first> | git <second>` with `input` on the first's stdin; the second's stdout. */
export function gitPipe(
  cwd: string,
  first: string[],
  second: string[],
  opts: { input?: string | Buffer; signal?: AbortSignal } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const a = gitSpawn(cwd, first, opts);
    const b = gitSpawn(cwd, second, opts);
    const out: Buffer[] = [];
    let errA = '';
    let errB = '';
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      a.kill();
      b.kill();
      reject(e);
    };
    a.stdout.pipe(b.stdin);
    a.stderr.on('data', (d: Buffer) => (errA += d.toString('utf8')));
    b.stderr.on('data', (d: Buffer) => (errB += d.toString('utf8')));
    b.stdout.on('data', (d: Buffer) => out.push(d));
    a.on('error', fail);
    b.on('error', fail);
    a.on('close', (code) => code !== 0 && fail(new GitError(first, code, errA)));
    b.on('close', (code) => {
      if (failed) return;
      if (code !== 0) return fail(new GitError(second, code, errB));
      resolve(Buffer.concat(out));
    });
    a.stdin.end(opts.input ?? '');
  });
}

let probe: Promise<boolean> | undefined;
/** Is a git binary on PATH? Asked once per process. */
export function gitAvailable(): Promise<boolean> {
  probe ??= gitRun(process.cwd(), ['--version'], { timeoutMs: 5000 }).then(
    () => true,
    () => false,
  );
  return probe;
}

/** One line for a person: git's own words when it was git that failed. */
export function gitErrorText(e: unknown): string {
  return e instanceof Error ? e.message.trim() : String(e);
}

/**
 * Runs git and hands stdout to `onLine` line by line as it arrives (nothing is buffered
 * beyond one line). `onLine` returning false stops the process early: the walk is over.
 */
export function gitLines(cwd: string, args: string[], onLine: (line: string) => boolean | void, opts: RunOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = gitSpawn(cwd, args, opts);
    } catch (e) {
      reject(e as Error);
      return;
    }
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
    child.stdin.end(opts.input ?? '');
  });
}

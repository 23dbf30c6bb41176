// The process port for everything that is not git: make, qemu, cc, mke2fs, ip/iptables (the
// test plan and the probe). Like run.ts it takes an argv array, never a shell string. Every
// child runs in its own process group so that a cancel or a time limit ends the whole tree
// (make's compilers, qemu's threads), and nothing is left behind when the caller returns.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class ProcError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly reason: 'exit' | 'timeout' | 'cancelled' | 'spawn',
  ) {
    super(
      reason === 'timeout'
        ? `${cmd} timed out`
        : reason === 'cancelled'
          ? `${cmd} cancelled`
          : reason === 'spawn'
            ? `${cmd}: ${stderr}`
            : `${cmd} ${args.slice(0, 2).join(' ')}… failed (${code}): ${stderr.trim().split('\n').slice(-4).join(' / ')}`,
    );
  }
}

export interface ProcOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  signal?: AbortSignal;
  /** Kill the process group after this many ms (reason 'timeout'). */
  timeoutMs?: number;
  /** Called with each complete line of stdout (and stderr when `mergeStderr`). */
  onLine?: (line: string) => void;
  mergeStderr?: boolean;
  /** Keep at most this many bytes of stdout/stderr (the tail); default 8 MiB. */
  maxBuffer?: number;
  okCodes?: number[];
  /** Prefix the command with `nice -n N` (heavy jobs on shared machines). */
  nice?: number;
}

export interface ProcResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `cmd args` and resolves when it exits 0 (or an ok code); rejects with ProcError. */
export function runProc(cmd: string, args: string[], opts: ProcOptions = {}): Promise<ProcResult> {
  const t0 = Date.now();
  const [file, argv] = opts.nice !== undefined ? ['nice', ['-n', String(opts.nice), cmd, ...args]] : [cmd, args];
  const max = opts.maxBuffer ?? 8 << 20;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new ProcError(cmd, args, null, '', 'cancelled'));
    const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    let pending = '';
    let pendingErr = '';
    let reason: ProcError['reason'] | null = null;
    const killTree = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const onAbort = () => {
      reason = 'cancelled';
      killTree();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          reason = 'timeout';
          killTree();
        }, opts.timeoutMs)
      : null;
    const lines = (chunk: string, which: 'out' | 'err') => {
      if (!opts.onLine || (which === 'err' && !opts.mergeStderr)) return;
      const text = (which === 'out' ? pending : pendingErr) + chunk;
      const parts = text.split('\n');
      const rest = parts.pop() ?? '';
      if (which === 'out') pending = rest;
      else pendingErr = rest;
      for (const l of parts) opts.onLine(l.replace(/\r$/, ''));
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      if (out.length > max) out = out.slice(-max);
      lines(s, 'out');
    });
    child.stderr.on('data', (s: string) => {
      err += s;
      if (err.length > max) err = err.slice(-max);
      lines(s, 'err');
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new ProcError(cmd, args, null, e.message, 'spawn'));
    });
    // When the leader exits, whatever it left in its group (which may hold our pipes open) goes.
    child.on('exit', () => killTree());
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Children of the group that outlived the leader (a daemonised helper) go too.
      killTree();
      if (opts.onLine) {
        if (pending) opts.onLine(pending);
        if (pendingErr && opts.mergeStderr) opts.onLine(pendingErr);
      }
      const ms = Date.now() - t0;
      if (reason) return reject(new ProcError(cmd, args, code, err, reason));
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) resolve({ code: code ?? 0, stdout: out, stderr: err, ms });
      else reject(new ProcError(cmd, args, code, err || out.slice(-2000), 'exit'));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** The absolute path of `cmd` on PATH (plus the sbin folders a non-root PATH may lack), or null. */
export function which(cmd: string, extra: string[] = ['/usr/sbin', '/sbin']): string | null {
  if (cmd.includes('/')) return fs.existsSync(cmd) ? cmd : null;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extra];
  for (const d of dirs) {
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return null;
}

// The detect-only CLI entry, bundled alone as dist/cli-detect.js so that a `detect` process
// loads detection and nothing else (no model, sweep, backport or test-plan code). dist/cli.js
// (./launch) sends `detect` here when its flags parse; anything else, including a mistyped
// flag (whose message names the command that owns it), goes to the full CLI (./main).

import * as fs from 'node:fs';
import { getParser } from '../core/parse/treesitter';
import { Out, parseCommand } from './command';
import { detect } from './detect';
import { runCommand } from './run';

/** True when `detect <rest>` parses with detect's own flags (else the full CLI answers). */
export function accepts(rest: string[]): boolean {
  try {
    parseCommand(detect, rest, [detect]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes straight to a file descriptor: process.stdout would load node's stream and socket
 * machinery, a few ms of a detect process's life. Waits out a full non-blocking pipe (EAGAIN)
 * and stops quietly when the reader has gone (EPIPE: `detect … | head`).
 */
export function fdWriter(fd: number): Out {
  let closed = false;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return (s) => {
    const b = Buffer.from(s + '\n');
    for (let off = 0; off < b.length && !closed;) {
      try {
        off += fs.writeSync(fd, b, off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 2);
        else if (code === 'EPIPE') closed = true;
        else throw e;
      }
    }
  };
}

export async function main(
  argv: string[],
  out: Out = fdWriter(1),
  err: Out = fdWriter(2),
  stdin: () => Buffer = () => fs.readFileSync(0),
): Promise<number> {
  const rest = argv.slice(1);
  // Start reading and compiling the two wasm modules now; they finish while the files are read
  // and the functions located. A failure here surfaces again, with its message, at first use.
  if (!rest.includes('--help') && !rest.includes('-h')) getParser().catch(() => undefined);
  return runCommand(detect, rest, [detect], { out, err, stdin });
}

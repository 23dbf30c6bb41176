// Running one subcommand: strict flag parsing, --help, and every failure turned into one line
// on stderr with the documented exit code (EXIT in ./command). Shared by the full CLI (./main)
// and the detect-only entry (./detectMain), so both answer the same way.

import { TargetError } from '../core/detect';
import { Command, EXIT, helpText, InputError, Io, parseCommand, UsageError } from './command';

/** One line, whatever the error carried (git's stderr, multi-line messages). */
function oneLine(s: string): string {
  const t = s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' / ');
  return t.length > 400 ? `${t.slice(0, 397)}...` : t;
}

const FS_INPUT_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'ELOOP', 'ENAMETOOLONG']);

export async function runCommand(cmd: Command, rest: string[], all: Command[], io: Io): Promise<number> {
  const { out, err } = io;
  const debug = rest.includes('--debug') || process.env.CONNTRACK_BACKPORT_DEBUG === '1';
  try {
    const a = parseCommand(cmd, rest, all);
    if (a.values.help) {
      out(helpText(cmd));
      return EXIT.ok;
    }
    return await cmd.run(a, io);
  } catch (e) {
    const error = e as Error & { code?: string };
    if (debug && error?.stack) err(error.stack);
    const msg = oneLine(String(error?.message ?? e));
    if (e instanceof UsageError) {
      err(`conntrack-backport ${cmd.name}: ${msg} (see conntrack-backport ${cmd.name} --help)`);
      return EXIT.usage;
    }
    if (e instanceof InputError || e instanceof TargetError) {
      err(`conntrack-backport ${cmd.name}: ${msg}`);
      return EXIT.input;
    }
    if (error?.code && FS_INPUT_CODES.has(error.code)) {
      err(`conntrack-backport ${cmd.name}: ${msg}`);
      return EXIT.input;
    }
    err(`conntrack-backport ${cmd.name}: internal error: ${msg}${debug ? '' : ' (--debug shows the stack)'}`);
    return EXIT.internal;
  }
}

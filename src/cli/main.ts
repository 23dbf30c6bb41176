// The CLI's entry: picks the subcommand, parses its flags strictly, runs it, and turns every
// failure into one line on stderr and a documented exit code (see EXIT in ./command). The
// subcommands live one per file beside this one; adding one means adding it to COMMANDS.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TargetError } from '../core/detect';
import { backport } from './backport';
import { checkPatch } from './checkPatch';
import { Command, EXIT, helpText, InputError, Io, nearest, Out, parseCommand, UsageError } from './command';
import { demoRepo } from './demoRepo';
import { detect } from './detect';
import { functions } from './functions';
import { simulate } from './simulate';
import { stats } from './stats';
import { sweep } from './sweep';
import { testplan } from './testplan';
import { probe } from './probe';

export const COMMANDS: Command[] = [detect, checkPatch, functions, backport, demoRepo, sweep, simulate, stats, testplan, probe];

export function version(): string {
  // dist/cli.js and out/src/cli/main.js both find the repository's package.json upwards.
  for (let d = __dirname, i = 0; i < 5; i++, d = path.dirname(d)) {
    try {
      const p = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8'));
      if (p.name === 'conntrack-backport') return p.version;
    } catch {
      /* keep looking */
    }
  }
  return 'unknown';
}

export function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: conntrack-backport <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary.split(/(?<=\.) /)[0]}`),
    '',
    "'conntrack-backport <command> --help' shows a command's options; --version prints the version.",
    'exit codes: 0 analysed, 1 --fail-on-missing and a race is not fixed (backport: blocked/failed),',
    '            2 usage, 3 input not analysable, 4 backport stopped at a conflict, 5 internal error',
  ].join('\n');
}

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

export async function main(
  argv: string[],
  out: Out = (s) => process.stdout.write(s + '\n'),
  err: Out = (s) => process.stderr.write(s + '\n'),
  stdin: () => Buffer = () => fs.readFileSync(0),
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    err(usage());
    return EXIT.usage;
  }
  if (first === '--version' || first === '-V') {
    out(`conntrack-backport ${version()}`);
    return EXIT.ok;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    const c = rest[0] ? COMMANDS.find((x) => x.name === rest[0]) : undefined;
    out(c ? helpText(c) : usage());
    return EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    const near = nearest(
      first.replace(/^-+/, ''),
      COMMANDS.map((c) => c.name),
    );
    err(
      first.startsWith('-')
        ? `conntrack-backport: a command comes first (${COMMANDS.map((c) => c.name).join(', ')}), got option ${first}`
        : `conntrack-backport: unknown command '${first}'${near ? `; did you mean '${near}'?` : ''} (see conntrack-backport --help)`,
    );
    return EXIT.usage;
  }
  const debug = rest.includes('--debug') || process.env.CONNTRACK_BACKPORT_DEBUG === '1';
  const io: Io = { out, err, stdin };
  try {
    const a = parseCommand(cmd, rest, COMMANDS);
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

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}

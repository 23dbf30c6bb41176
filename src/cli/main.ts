// The CLI's entry: picks the subcommand, parses its flags strictly, runs it, and turns every
// failure into one line on stderr and a documented exit code (see EXIT in ./command). The
// subcommands live one per file beside this one; adding one means adding it to COMMANDS.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { backport } from './backport';
import { checkPatch } from './checkPatch';
import { Command, EXIT, helpText, nearest, Out } from './command';
import { demoRepo } from './demoRepo';
import { detect } from './detect';
import { functions } from './functions';
import { simulate } from './simulate';
import { stats } from './stats';
import { sweep } from './sweep';
import { testplan } from './testplan';
import { probe } from './probe';
import { runCommand } from './run';

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
  return runCommand(cmd, rest, COMMANDS, { out, err, stdin });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}

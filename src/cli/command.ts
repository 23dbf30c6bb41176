// What every subcommand module declares (its options, how many paths it takes, which flags
// exclude each other) and the shared parsing on node:util parseArgs in strict mode. A
// subcommand adds a flag by adding one entry to its `options`; nothing else needs to change.

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'boolean' | 'string';
  /** May be given more than once; the values are kept in order. */
  multiple?: boolean;
  /** Placeholder shown in --help, e.g. FILE. */
  value?: string;
  help: string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: Values;
  positionals: string[];
}

export type Out = (s: string) => void;

export interface Io {
  out: Out;
  err: Out;
  /** Standard input, read only when an argument is `-`. */
  stdin: () => Buffer;
}

export interface Command {
  name: string;
  summary: string;
  /** Everything after the command name in the usage line(s). */
  synopsis: string[];
  options: Record<string, OptionSpec>;
  /** Positional arguments: at least min, at most max, named for messages. */
  positionals: { min: number; max: number; names: string };
  /** Pairs (or larger groups) of flags that cannot be combined. */
  conflicts?: string[][];
  /** Longer text for --help after the options. */
  notes?: string[];
  run(a: Parsed, io: Io): Promise<number>;
}

/** Exit codes, the same for every subcommand (README "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** Analysed, and the gate asked for (--fail-on-missing) failed; backport: plan blocked or run failed. */
  gate: 1,
  usage: 2,
  /** The input cannot be analysed: no such path, binary, not nf_conntrack_core.c, not a repository. */
  input: 3,
  /** backport stopped at a conflict: resolve, git add, then --continue. */
  conflict: 4,
  /** A bug or an unexpected failure of a tool we run (git); --debug shows the stack. */
  internal: 5,
} as const;

/** Wrong invocation: exit 2, message plus a pointer to --help. */
export class UsageError extends Error {}
/** Input that cannot be analysed: exit 3. */
export class InputError extends Error {}

export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', help: 'this help' },
  debug: { type: 'boolean', help: 'on an unexpected error, print the stack trace too' },
};

export function optionsOf(c: Command): Record<string, OptionSpec> {
  return { ...c.options, ...COMMON_OPTIONS };
}

export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swapped pair of letters (histroy) counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The closest candidate, when it is close enough to be a plausible typo. */
export function nearest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Strict parse of one subcommand's arguments. Unknown flags are caught before parseArgs so the
 * message can name the nearest valid flag, or the subcommand the flag belongs to.
 */
export function parseCommand(c: Command, argv: string[], all: Command[]): Parsed {
  const options = optionsOf(c);
  const names = Object.keys(options);
  for (const tok of argv) {
    if (tok === '--') break;
    if (tok.startsWith('--')) {
      const name = tok.slice(2).split('=', 1)[0];
      if (!(name in options)) {
        const near = nearest(name, names);
        const owner = all.find((o) => o !== c && name in o.options);
        const hint = near ? `; did you mean --${near}?` : owner ? ` (it is an option of '${owner.name}')` : '';
        throw new UsageError(`unknown option --${name} for ${c.name}${hint}`);
      }
    } else if (tok.startsWith('-') && tok !== '-' && tok !== '-h' && !/^-\d/.test(tok)) {
      const near = nearest(tok.replace(/^-+/, ''), names);
      throw new UsageError(`unknown option ${tok} for ${c.name}${near ? `; did you mean --${near}?` : ''}`);
    }
  }
  let r;
  try {
    r = parseArgs({
      args: argv.map((t) => (t === '-h' ? '--help' : t)),
      options: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type, multiple: o.multiple ?? false }])),
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    if (!String((e as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) throw e;
    throw new UsageError(cleanParseError(e as Error));
  }
  const values = r.values as Values;
  if (values.help) return { values, positionals: r.positionals };
  for (const group of c.conflicts ?? []) {
    const set = group.filter((f) => values[f] !== undefined && values[f] !== false);
    if (set.length > 1) throw new UsageError(`${set.map((f) => `--${f}`).join(' and ')} cannot be used together`);
  }
  const p = c.positionals;
  if (r.positionals.length > p.max)
    throw new UsageError(`unexpected argument '${r.positionals[p.max]}' (${c.name} takes ${p.max ? p.names : 'no arguments'})`);
  if (r.positionals.length < p.min) throw new UsageError(`${c.name} needs ${p.names}`);
  return { values, positionals: r.positionals };
}

function cleanParseError(e: Error): string {
  const code = (e as { code?: string }).code;
  const m = /'(--?[\w-]+)(?: <value>)?'/.exec(e.message);
  const flag = m?.[1];
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    if (/does not take an argument/.test(e.message)) return `${flag} is a switch and takes no value`;
    if (/ambiguous/.test(e.message)) return `${flag} needs a value; to pass one that starts with '-', write ${flag}=VALUE`;
    return `${flag} needs a value`;
  }
  return e.message.split('\n')[0];
}

export function helpText(c: Command): string {
  const opts = optionsOf(c);
  const rows = Object.entries(opts).map(([k, o]) => [
    `--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}${o.multiple ? ' ...' : ''}`,
    o.help,
  ]);
  const w = Math.min(30, Math.max(...rows.map((r) => r[0].length)));
  return [
    ...c.synopsis.map((s, i) => `${i ? '       ' : 'usage: '}conntrack-backport ${c.name} ${s}`),
    '',
    c.summary,
    '',
    'options:',
    ...rows.map(([f, h]) => (f.length > w ? `  ${f}\n  ${' '.repeat(w)}  ${h}` : `  ${f.padEnd(w)}  ${h}`)),
    ...(c.notes?.length ? ['', ...c.notes] : []),
  ].join('\n');
}

// ---- typed access to parsed values ------------------------------------------------------------

export const flag = (a: Parsed, k: string): boolean => a.values[k] === true;
export function str(a: Parsed, k: string): string | undefined {
  const v = a.values[k];
  return Array.isArray(v) ? v[v.length - 1] : typeof v === 'string' ? v : undefined;
}
export function list(a: Parsed, k: string): string[] {
  const v = a.values[k];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
export function num(a: Parsed, k: string): number | undefined {
  const v = str(a, k);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${k} must be a non-negative number, got '${v}'`);
  return n;
}

// ---- reading input files ----------------------------------------------------------------------

/** A file named on the command line (or `-` for stdin), as bytes; exit 3 when it cannot be read. */
export function readInputFile(p: string, io: Io, what: string): Buffer {
  if (p === '-') return io.stdin();
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new InputError(`${p}: no such file`);
  }
  if (st.isDirectory()) throw new InputError(`${p} is a directory, not ${what}`);
  try {
    return fs.readFileSync(p);
  } catch (e) {
    throw new InputError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Text input: refuses binary files (NUL bytes) with exit 3. */
export function readTextInput(p: string, io: Io, what: string, encoding: BufferEncoding = 'utf8'): string {
  const buf = readInputFile(p, io, what);
  if (buf.subarray(0, 65536).includes(0)) throw new InputError(`${p === '-' ? 'stdin' : p} is a binary file, not ${what}`);
  return buf.toString(encoding);
}

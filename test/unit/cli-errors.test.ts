// Bad invocations, table-driven: each one exits with its documented code and says why in one
// line on stderr, without a stack trace. Plus --version, per-subcommand --help, and the same
// behaviour from the bundled dist/cli.js in a real process.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS, EXIT } from '../../src/cli';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { runMain, tmpDir, writeFile } from './helpers';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

const run = (argv: string[], stdin = ''): ReturnType<typeof runMain> => runMain(argv, stdin);

const tree = tmpDir('ctb-cli-tree-');
writeFile(tree, 'net/netfilter/nf_conntrack_core.c', generateConntrackCore({ era: '4.15', fullSize: false }).text);
const plain = tmpDir('ctb-cli-plain-'); // a directory that is neither a kernel tree nor a git repository
writeFile(plain, 'README', 'not a repository\n');
const hello = path.join(plain, 'hello.c');
fs.writeFileSync(hello, 'int main(void)\n{\n\treturn 0;\n}\n');
const notes = path.join(plain, 'notes.txt');
fs.writeFileSync(notes, 'just some words, no diff in here\n');
const binary = path.join(plain, 'blob.bin');
fs.writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 3]));

interface Case {
  argv: string[];
  code: number;
  msg: RegExp;
}

const CASES: Case[] = [
  { argv: ['detect', '--jsn', tree], code: EXIT.usage, msg: /unknown option --jsn .*did you mean --json\?/ },
  { argv: ['sweep', '--no-histroy', plain], code: EXIT.usage, msg: /unknown option --no-histroy .*did you mean --no-history\?/ },
  {
    argv: ['detect', '--trials', '5', tree],
    code: EXIT.usage,
    msg: /unknown option --trials for detect \(it is an option of 'simulate'\)/,
  },
  { argv: ['detect', '--json', '--markdown', tree], code: EXIT.usage, msg: /--json and --markdown cannot be used together/ },
  { argv: ['sweep', '--json', '--csv', plain], code: EXIT.usage, msg: /--json and --csv cannot be used together/ },
  { argv: ['backport', '--plan', '--apply', tree], code: EXIT.usage, msg: /--plan and --apply cannot be used together/ },
  { argv: ['detect'], code: EXIT.usage, msg: /detect needs a kernel tree/ },
  { argv: ['detect', tree, tree], code: EXIT.usage, msg: /unexpected argument/ },
  { argv: ['detect', '--json=yes', tree], code: EXIT.usage, msg: /--json is a switch and takes no value/ },
  { argv: ['sweep', '--refs'], code: EXIT.usage, msg: /--refs needs a value/ },
  {
    argv: ['simulate', '--scenario', 'dns-snat', '--variant', 'none', '--trials', 'many'],
    code: EXIT.usage,
    msg: /--trials must be a non-negative number/,
  },
  {
    argv: ['simulate', '--scenario', 'dns-snat', '--variant', 'none', '--exhaustive', '--trials', '9'],
    code: EXIT.usage,
    msg: /--exhaustive and --trials cannot be used together/,
  },
  { argv: ['detecct', tree], code: EXIT.usage, msg: /unknown command 'detecct'; did you mean 'detect'\?/ },
  { argv: ['--json', '--markdown'], code: EXIT.usage, msg: /a command comes first/ },
  { argv: ['detect', '-x', tree], code: EXIT.usage, msg: /unknown option -x/ },
  { argv: ['stats', '/nonexistent'], code: EXIT.input, msg: /\/nonexistent: no such file/ },
  { argv: ['check-patch', '/nonexistent.patch', tree], code: EXIT.input, msg: /\/nonexistent\.patch: no such file/ },
  { argv: ['check-patch', binary, tree], code: EXIT.input, msg: /is a binary file, not a patch/ },
  { argv: ['check-patch', notes, tree], code: EXIT.input, msg: /no diff found/ },
  { argv: ['sweep', '--refs', '*', plain], code: EXIT.input, msg: /is not a git repository/ },
  { argv: ['sweep', '/nonexistent'], code: EXIT.input, msg: /no such directory/ },
  { argv: ['detect', binary], code: EXIT.input, msg: /not analysable: the file is binary/ },
  { argv: ['detect', hello], code: EXIT.input, msg: /not analysable: not nf_conntrack_core\.c/ },
  { argv: ['detect', plain], code: EXIT.input, msg: /not a kernel tree/ },
  { argv: ['detect', '/nonexistent/tree'], code: EXIT.input, msg: /no such file or directory/ },
  { argv: ['functions', binary], code: EXIT.input, msg: /binary file, not C source/ },
  { argv: ['stats', notes], code: EXIT.input, msg: /notes\.txt: / },
];

function assertOneCleanLine(err: string, what: string): void {
  assert.doesNotMatch(err, /^\s+at .*\(.*:\d+:\d+\)$/m, `${what}: stack frame in ${err}`);
  assert.doesNotMatch(err, /^\s+at /m, `${what}: stack frame in ${err}`);
  assert.equal(err.trim().split('\n').length, 1, `${what}: more than one line: ${err}`);
  assert.match(err, /^conntrack-backport/, what);
}

test(`${CASES.length} bad invocations: documented exit code, one line on stderr, no stack`, async () => {
  assert.ok(CASES.length >= 15);
  for (const c of CASES) {
    const what = c.argv.join(' ');
    const r = await run(c.argv);
    assert.equal(r.code, c.code, `${what}: exit ${r.code}, stderr ${r.err}`);
    assert.match(r.err, c.msg, what);
    assertOneCleanLine(r.err, what);
  }
});

test('--version prints the package version; help and each subcommand --help exit 0', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
  const v = await run(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.out, `conntrack-backport ${pkg.version}`);
  for (const c of COMMANDS) {
    const h = await run([c.name, '--help']);
    assert.equal(h.code, 0, c.name);
    assert.match(h.out, new RegExp(`^usage: conntrack-backport ${c.name} `));
    for (const k of Object.keys(c.options)) assert.ok(h.out.includes(`--${k}`), `${c.name} --help lists --${k}`);
  }
  assert.equal((await run([])).code, EXIT.usage);
  assert.match((await run(['help', 'sweep'])).out, /--refs PATTERN/);
});

test('a typo in a flag does not eat the path that follows it', async () => {
  // The old parser took `--jsn <tree>` as a flag with a value and then found no tree.
  const r = await run(['detect', '--jsn', tree]);
  assert.doesNotMatch(r.err, /needs a kernel tree/);
});

test('--fail-on-missing is the opt-in gate: exit 1 when a race is not fixed, 0 without it', async () => {
  const plainRun = await run(['detect', '--no-history', tree]);
  assert.equal(plainRun.code, 0, plainRun.err);
  const gated = await run(['detect', '--no-history', '--fail-on-missing', tree]);
  assert.equal(gated.code, EXIT.gate);
  assert.match(gated.err, /not fixed: race1 missing/);
  const fixed = tmpDir();
  writeFile(
    fixed,
    'net/netfilter/nf_conntrack_core.c',
    generateConntrackCore({ era: '5.10', race1: 'upstream', race2: 'upstream', zone: true, fullSize: false }).text,
  );
  const ok = await run(['detect', '--no-history', '--fail-on-missing', fixed]);
  assert.equal(ok.code, 0, ok.err + ok.out);
});

test('the bundled CLI in a real process: exit codes and no stack on stderr', () => {
  const p = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const v = execFileSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
  assert.match(v, /^conntrack-backport \d+\.\d+\.\d+\n$/);
  for (const [args, code] of [
    [['stats', '/nonexistent'], 3],
    [['detect', '--jsn', tree], 2],
    [['sweep', '--refs', '*', plain], 3],
    [['check-patch', binary, tree], 3],
  ] as const) {
    const r = p([...args]);
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    assertOneCleanLine(r.stderr, args.join(' '));
    assert.equal(r.stdout, '');
  }
});

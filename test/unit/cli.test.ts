import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli';
import { generateConntrackCore } from '../../src/core/fixtures/generate';
import { tmpDir, writeFile } from './helpers';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('detect --json keeps the documented keys', async () => {
  const d = tmpDir();
  writeFile(d, 'net/netfilter/nf_conntrack_core.c', generateConntrackCore({ era: '4.15', race1: 'upstream', fullSize: false }).text);
  const r = await run('detect', '--json', d);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ['file', 'kernelFile', 'races', 'zoneFollowup', 'rework2020', 'reverse2024']) assert.ok(k in j, k);
  for (const race of ['race1', 'race2', 'race3'])
    for (const k of ['verdict', 'variant', 'evidence', 'explain']) assert.ok(k in j.races[race], `${race}.${k}`);
  assert.equal(j.races.race1.verdict, 'fixed');
  assert.equal(j.races.race2.verdict, 'missing');
});

test('detect prints readable text and markdown', async () => {
  const d = tmpDir();
  writeFile(d, 'f/nf_conntrack_core.c', generateConntrackCore({ era: '5.10', race2: 'upstream', zone: true, fullSize: false }).text);
  const t = await run('detect', `${d}/f/nf_conntrack_core.c`);
  assert.match(t.out, /race3: FIXED \(rework-2020\)/);
  const m = await run('detect', '--markdown', `${d}/f/nf_conntrack_core.c`);
  assert.match(m.out, /^# nf_conntrack race fixes/);
  assert.match(m.out, /## Race 2 .*\n\n\*\*Fixed by 4e35c1cb9460\.\*\*/);
  // Kernel words, not ours: no signature ids, no booleans; matched code quoted with its indentation.
  assert.doesNotMatch(m.out, /race\d\.[a-z-]+|rework\.[a-z-]+|: (true|false)\b/);
  assert.match(m.out, /```c\n {2}if \(nf_ct_tuple_equal\(/);
});

test('usage errors exit 2, trees that are not kernel trees exit 3', async () => {
  assert.equal((await run('detect')).code, 2);
  const r = await run('detect', tmpDir());
  assert.equal(r.code, 3);
  assert.match(r.err, /not a kernel tree/);
  assert.equal((await run('frobnicate')).code, 2);
  assert.equal((await run('help')).code, 0);
});

test('functions lists names, lines and #if conditions', async () => {
  const d = tmpDir();
  writeFile(d, 'a.c', '#ifdef CONFIG_X\nstatic int f(void)\n{\n\treturn 0;\n}\n#endif\n');
  const r = await run('functions', '--json', `${d}/a.c`);
  assert.deepEqual(JSON.parse(r.out), [{ name: 'f', startLine: 2, endLine: 5, nameLine: 2, condition: 'CONFIG_X' }]);
});

test('flag values keep every "=" after the first', async () => {
  const { parseCommand } = await import('../../src/cli/command');
  const { COMMANDS } = await import('../../src/cli');
  const sweep = COMMANDS.find((c) => c.name === 'sweep')!;
  const a = parseCommand(sweep, ['--override=ed07d9a021df=abc123', '--refs', 'v4.*', 'repo'], COMMANDS);
  assert.deepEqual(a.values.override, ['ed07d9a021df=abc123']);
  assert.deepEqual(a.values.refs, ['v4.*']);
  assert.deepEqual(a.positionals, ['repo']);
});

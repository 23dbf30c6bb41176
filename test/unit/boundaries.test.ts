import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

// The layering rules themselves are the lint rule layers/boundaries (scripts/eslint.config.mjs,
// proven in lint-boundaries.test.ts); these are the checks lint does not state.
const root = path.resolve(__dirname, '../../..');
function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? files(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

test('package.json declares every command of the table with the category, and hides the internal one', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const ids = fs.readFileSync(path.join(root, 'src/ids.ts'), 'utf8');
  const table = [...ids.matchAll(/'(conntrackBackport\.[\w.]+)'/g)]
    .map((m) => m[1])
    .filter((id) => id !== 'conntrackBackport.kernelTree' && id !== 'conntrackBackport.simulation');
  const declared = pkg.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...declared].sort(), [...table].sort());
  for (const c of pkg.contributes.commands) assert.equal(c.category, 'Conntrack Backport');
  assert.ok(
    pkg.contributes.menus.commandPalette.some(
      (m: { command: string; when: string }) => m.command === 'conntrackBackport.internal.timings' && m.when === 'false',
    ),
  );
  assert.ok(pkg.activationEvents.includes('onWebviewPanel:conntrackBackport.simulation'));
  assert.ok(!pkg.activationEvents.some((e: string) => e.startsWith('onLanguage') || e === '*'));
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('no file outside src/core/git imports child_process (every git process goes through the port)', () => {
  const gitDir = path.join(root, 'src/core/git') + path.sep;
  const offenders = files(path.join(root, 'src')).filter(
    (f) => !f.startsWith(gitDir) && /(?:from |import\(|require\()['"](?:node:)?child_process['"]/.test(fs.readFileSync(f, 'utf8')),
  );
  assert.deepEqual(
    offenders.map((f) => path.relative(root, f)),
    [],
  );
});

test('nothing in src imports simple-git (the port replaced it)', () => {
  const offenders = files(path.join(root, 'src')).filter((f) => /from ['"]simple-git['"]/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(
    offenders.map((f) => path.relative(root, f)),
    [],
  );
});

test('every image the README shows is shipped in the .vsix (allowlisted in .vscodeignore) or absolute', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const allow = fs
    .readFileSync(path.join(root, '.vscodeignore'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map(
      (l) =>
        new RegExp(
          `^${l
            .slice(1)
            .trim()
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*\*/g, '.*')
            .replace(/(?<!\.)\*/g, '[^/]*')}$`,
        ),
    );
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((src) => !/^https?:\/\//.test(src));
  assert.ok(images.length > 0);
  for (const src of images) {
    assert.ok(fs.existsSync(path.join(root, src)), `${src} exists`);
    assert.ok(
      allow.some((re) => re.test(src)),
      `${src} is allowlisted in .vscodeignore`,
    );
  }
});

// Lint (npm run lint; kept in scripts/ so the top level stays small): typescript-eslint's recommended rules plus the project's layering, stated as one local
// rule (`layers/boundaries`) instead of a regex test:
//   - src/core/** imports nothing outside src/core and never `vscode`;
//   - the pure host helpers (presentation, ids, timings) never import `vscode`;
//   - webview page code (src/**/page/**) imports only its own folder, the shared page runtime
//     (src/webview/page/: the page side of the one webview lifecycle) and the feature's shared
//     `protocol.ts` / `state.ts` (which are checked as page code too: no vscode, no node).
// `child_process` is allowed only in src/core/git (the git port) and in scripts/bench/test.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const rel = (f) => path.relative(root, f).split(path.sep).join('/');
const isCore = (f) => f.startsWith('src/core/');
const isPage = (f) => /^src\/[^/]+\/page\//.test(f);
const PURE_HOST = new Set(['src/detection/presentation.ts', 'src/ids.ts', 'src/timings.ts']);
const SHARED_PAGE_RUNTIME = 'src/webview/page/';
const SHARED_WITH_PAGE = /^src\/([^/]+)\/(protocol|state)\.ts$/;
const NODE_BUILTIN = /^node:|^(fs|path|os|child_process|worker_threads|util|crypto|events|stream)$/;

function resolveRel(file, spec) {
  const target = rel(path.resolve(root, path.dirname(file), spec));
  return target.endsWith('.ts') ? target : `${target}.ts`;
}

const boundaries = {
  meta: { type: 'problem', schema: [], messages: { broken: '{{why}}' } },
  create(context) {
    const file = rel(context.filename);
    const shared = SHARED_WITH_PAGE.exec(file);
    const pageLike = isPage(file) || Boolean(shared);
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      const report = (why) => context.report({ node, messageId: 'broken', data: { why } });
      if (spec === 'vscode' && (isCore(file) || PURE_HOST.has(file) || pageLike))
        return report(`${file} must not import vscode (it is shared with the CLI, the tests or the webview)`);
      if (pageLike && NODE_BUILTIN.test(spec)) return report(`${file} runs in (or is shared with) the webview: no node module '${spec}'`);
      if (!spec.startsWith('.')) return;
      const target = resolveRel(context.filename, spec);
      if (isCore(file) && !isCore(target)) return report(`src/core must not import ${target} (core imports only core)`);
      if (isPage(file)) {
        const pageDir = file.slice(0, file.indexOf('/page/') + '/page/'.length);
        const feature = pageDir.slice(0, -'page/'.length);
        const ok =
          target.startsWith(pageDir) ||
          target.startsWith(SHARED_PAGE_RUNTIME) ||
          target === `${feature}protocol.ts` ||
          target === `${feature}state.ts`;
        if (!ok)
          return report(
            `page code may import its page folder, ${SHARED_PAGE_RUNTIME} and ${feature}protocol.ts/state.ts only, not ${target}`,
          );
      }
      if (shared && !(isCore(target) || SHARED_WITH_PAGE.test(target) || PURE_HOST.has(target)))
        return report(`${file} is shared with the page: it may import only core, ids and other protocol/state files, not ${target}`);
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'media/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { layers: { rules: { boundaries } } },
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        URL: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        queueMicrotask: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      'layers/boundaries': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // git formats and the fixtures separate fields with \x1e/\x1f on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/core/git/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'child_process', message: 'git runs through the port (src/core/git/run.ts)' },
            { name: 'node:child_process', message: 'git runs through the port (src/core/git/run.ts)' },
            { name: 'simple-git', message: 'dropped: use the git port' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/page/**/*.ts'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        HTMLElement: 'readonly',
        SVGElement: 'readonly',
        Element: 'readonly',
        Event: 'readonly',
        MessageEvent: 'readonly',
        acquireVsCodeApi: 'readonly',
        requestAnimationFrame: 'readonly',
        getComputedStyle: 'readonly',
        navigator: 'readonly',
      },
    },
  },
  {
    // Tests poke at shapes the types forbid, on purpose (bad input must give a clear message).
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { globals: { exports: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

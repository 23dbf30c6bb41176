// One web-tree-sitter parser for the process, loaded lazily. The wasm files sit next to the
// bundle (dist/) or are resolved from node_modules when running from compiled sources.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Node, Parser, Tree } from 'web-tree-sitter';
import { kernelPrepass } from './prepass';
import { LineMap, locateFunctions } from './locate';
import type { FunctionInfo } from '../types';

export type { Node, Tree } from 'web-tree-sitter';

let loading: Promise<Parser> | undefined;
let wasmDirOverride: string | undefined;

/** Where the two .wasm files are (call before the first parse, e.g. from the extension). */
export function setWasmDirectory(dir: string): void {
  wasmDirOverride = dir;
}

function findWasm(name: string, pkgFile: string): string {
  const candidates = [wasmDirOverride, __dirname, path.join(__dirname, '..'), path.join(__dirname, '../dist')].filter(Boolean) as string[];
  for (const d of candidates) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  return require.resolve(pkgFile);
}

/**
 * The process's parser. Both modules are read here and handed over as bytes: web-tree-sitter
 * then neither fetches nor `import()`s anything (so a bundle it is in can run from a V8 code
 * cache, see src/cli/launch.ts), and the compile starts as soon as this is first called —
 * callers on a cold path call it early so the wasm compiles while their own work runs.
 */
export function getParser(): Promise<Parser> {
  loading ??= (async () => {
    const runtime = fs.readFileSync(findWasm('web-tree-sitter.wasm', 'web-tree-sitter/web-tree-sitter.wasm'));
    await Parser.init({ wasmBinary: runtime });
    const C = await Language.load(fs.readFileSync(findWasm('tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm')));
    const parser = new Parser();
    parser.setLanguage(C);
    return parser;
  })();
  return loading;
}

/** Parses already-prepassed text. The caller must call tree.delete(). */
export function parsePrepassed(parser: Parser, text: string, old?: Tree): Tree {
  const tree = parser.parse(text, old ?? null);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

const CONTAINERS = new Set([
  'translation_unit',
  'preproc_ifdef',
  'preproc_if',
  'preproc_else',
  'preproc_elif',
  'preproc_elifdef',
  'ERROR',
  'linkage_specification',
  'declaration_list',
]);

/** Name of the function a function_definition node declares. */
export function definitionName(def: Node): Node | null {
  let d: Node | null = def.childForFieldName('declarator');
  while (d) {
    if (d.type === 'function_declarator') {
      const inner = d.childForFieldName('declarator');
      if (inner?.type === 'identifier') return inner;
      d = inner;
      continue;
    }
    if (d.type === 'identifier') return d;
    d = d.childForFieldName('declarator');
  }
  return null;
}

/**
 * Full-file function index from a tree-sitter parse (the editor keeps this tree for
 * incremental reparses). Conditions come from the lexical pass, which tracks #if stacks.
 */
export function indexFunctionsFromTree(tree: Tree, text: string): FunctionInfo[] {
  const lines = new LineMap(text);
  const located = locateFunctions(text, lines);
  const lexical = new Map<number, string | undefined>();
  for (const f of located) lexical.set(f.bodyStart, f.condition);
  const out: FunctionInfo[] = [];
  const visit = (node: Node): void => {
    for (const child of node.children) {
      if (!child) continue;
      if (child.type === 'function_definition') {
        const name = definitionName(child);
        const body = child.childForFieldName('body');
        if (name && body) {
          out.push({
            name: name.text,
            startLine: child.startPosition.row + 1,
            endLine: child.endPosition.row + 1,
            nameLine: name.startPosition.row + 1,
            bodyStart: body.startIndex,
            bodyEnd: body.endIndex,
            condition: lexical.get(body.startIndex),
          });
        }
      } else if (CONTAINERS.has(child.type)) visit(child);
    }
  };
  visit(tree.rootNode);
  // A directive between `if` and `else` (e.g. `#if IS_ENABLED(CONFIG_IPV6)`) leaves tree-sitter
  // without a function node; the lexical locator still delimits it.
  const covered = (line: number): boolean => out.some((f) => f.startLine <= line && line <= f.endLine);
  for (const f of located) {
    if (f.truncated || covered(f.nameLine)) continue;
    out.push({
      name: f.name,
      startLine: f.startLine,
      endLine: f.endLine,
      nameLine: f.nameLine,
      bodyStart: f.bodyStart,
      bodyEnd: f.bodyEnd,
      condition: f.condition,
    });
  }
  return out.sort((a, b) => a.startLine - b.startLine);
}

export async function indexFunctions(text: string): Promise<FunctionInfo[]> {
  const parser = await getParser();
  const tree = parsePrepassed(parser, kernelPrepass(text));
  try {
    return indexFunctionsFromTree(tree, text);
  } finally {
    tree.delete();
  }
}

// Where the kernel functions named in the explorer's traces live in the analysed tree. The
// detection result already maps the functions it looked at; the rest are found by indexing
// nf_conntrack_core.c and its sibling nf_nat_core.c (get_unique_tuple and friends live there).
// No vscode import: the panel opens what this returns.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { indexFunctions } from '../core/parse/treesitter';
import type { DetectionResult } from '../core/types';
import type { SourceLink } from './protocol';

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

type Reader = (file: string) => Promise<string | undefined>;

const readIfExists: Reader = async (file) => {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** Symbol -> first definition line, for the files of the detected tree. */
export async function resolveSources(
  symbols: Iterable<string>,
  detection: DetectionResult | undefined,
  read: Reader = readIfExists,
): Promise<Record<string, SourceLink>> {
  const out: Record<string, SourceLink> = {};
  if (!detection?.kernelFile || !detection.file) return out;
  const wanted = new Set([...symbols].filter((s) => IDENTIFIER.test(s)));
  for (const s of wanted) {
    const f = detection.functions?.[s];
    if (f) {
      out[s] = { file: detection.file, line: f.nameLine };
      wanted.delete(s);
    }
  }
  const files = [detection.file, path.join(path.dirname(detection.file), 'nf_nat_core.c')];
  for (const file of files) {
    if (!wanted.size) break;
    const text = await read(file);
    if (text === undefined) continue;
    for (const fn of await indexFunctions(text)) {
      if (wanted.has(fn.name)) {
        out[fn.name] = { file, line: fn.nameLine };
        wanted.delete(fn.name);
      }
    }
  }
  return out;
}

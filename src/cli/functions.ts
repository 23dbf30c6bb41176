// `functions`: the function index tree-sitter sees in a C file (name, lines, #if condition).

import { indexFunctions } from '../core/parse/treesitter';
import { Command, flag, readTextInput } from './command';

export const functions: Command = {
  name: 'functions',
  summary: 'The function index tree-sitter sees (name, lines, #if condition).',
  synopsis: ['[--json] <file.c | ->'],
  options: { json: { type: 'boolean', help: 'as JSON' } },
  positionals: { min: 1, max: 1, names: 'a C file (or - for stdin)' },
  async run(a, io) {
    const fns = await indexFunctions(readTextInput(a.positionals[0], io, 'C source', 'latin1'));
    if (flag(a, 'json'))
      io.out(
        JSON.stringify(
          fns.map(({ bodyStart, bodyEnd, ...f }) => (void bodyStart, void bodyEnd, f)),
          null,
          2,
        ),
      );
    else
      for (const f of fns)
        io.out(
          `${String(f.startLine).padStart(5)}-${String(f.endLine).padEnd(5)} ${f.name}${f.condition ? `   [#if ${f.condition}]` : ''}`,
        );
    return 0;
  },
};

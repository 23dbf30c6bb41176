// `stats`: parse real `conntrack -S` (or /proc/net/stat/nf_conntrack) output and say what it shows.

import { Command, flag, InputError, readTextInput } from './command';

export const stats: Command = {
  name: 'stats',
  summary: 'Parse real conntrack -S (or /proc/net/stat/nf_conntrack) output and say what it shows.',
  synopsis: ['[--json] <conntrack -S output file | ->'],
  options: { json: { type: 'boolean', help: 'the parsed counters and the interpretation as JSON' } },
  positionals: { min: 1, max: 1, names: 'a file with conntrack -S output (or - for stdin)' },
  async run(a, io) {
    const { parseConntrackStats, interpretStats, ConntrackStatsError } = await import('../core/conntrackStats');
    const src = a.positionals[0];
    const text = readTextInput(src, io, 'conntrack -S output');
    try {
      const s = parseConntrackStats(text);
      const verdict = interpretStats(s, {});
      if (flag(a, 'json')) io.out(JSON.stringify({ stats: s, interpretation: verdict }, null, 2));
      else
        io.out(
          [verdict.summary, ...verdict.sentences.filter((x: string) => x !== verdict.summary).map((x: string) => `  ${x}`)].join('\n'),
        );
    } catch (e) {
      if (e instanceof ConntrackStatsError) throw new InputError(`${src === '-' ? 'stdin' : src}: ${e.message}`);
      throw e;
    }
    return 0;
  },
};

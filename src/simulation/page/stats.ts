// Imported evidence: the node's `conntrack -S` beside the model's rows for the detected variant,
// with the reading of the counters in words.

import type { ImportedStatsView } from '../protocol';
import { h, pct } from './dom';
import { counterTableEl } from './results';

export function statsEl(st: ImportedStatsView): HTMLElement {
  return h(
    'section',
    { class: 'card evidence', id: 'evidence' },
    h('h3', null, 'Your node vs the model'),
    h('p', { class: `verdict ${/unresolved|still fail|not resolved/.test(st.summary) ? 'bad' : 'good'}` }, st.summary),
    h(
      'div',
      { class: 'side' },
      h(
        'div',
        { class: 'table-wrap' },
        counterTableEl(st.node, `node (${st.format === 'proc' ? '/proc/net/stat/nf_conntrack' : 'conntrack -S'}, from ${st.source})`),
      ),
      st.model
        ? h(
            'div',
            { class: 'table-wrap' },
            counterTableEl(
              st.model.table,
              `model: ${st.model.variant} on ${st.model.scenario} (drops ${pct(st.model.dropRate)} of packets)`,
            ),
          )
        : h('p', { class: 'muted' }, 'No detected tree: open nf_conntrack_core.c to compare with the model.'),
    ),
    h('ul', { class: 'sentences' }, ...st.sentences.map((x) => h('li', null, x))),
  );
}

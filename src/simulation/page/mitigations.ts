// The mitigation controls of the request form and the "Can I drop my workaround?" card. Kept
// apart from form.ts and chart.ts: the form only mounts the controls and merges their values.
//
// Controls: DNAT endpoint choice (statistic random | round-robin nth / numgen inc), the client's
// resolver library (glibc | musl), NodeLocal DNSCache, a tc netem delay, and whether the run also
// checks every workaround for both variants.

import type { EditableKnobs, InitPayload, PanelResult, WorkaroundsView } from '../protocol';
import { h, pct } from './dom';

export type MitigationKnobs = Pick<EditableKnobs, 'dnatMode' | 'libc' | 'nodeLocalDns' | 'tcDelayMs'>;

export interface MitigationControls {
  element: HTMLElement;
  read(): MitigationKnobs & { workarounds: boolean };
  set(k: MitigationKnobs, workarounds: boolean, scenarioKind: 'race' | 'overflow' | undefined): void;
  /** One line for the knob summary. */
  summary(k: MitigationKnobs): string;
}

const DNAT_LABELS: [EditableKnobs['dnatMode'], string][] = [
  ['random', 'random'],
  ['nth', 'round-robin'],
];

export function createMitigationControls(init: InitPayload): MitigationControls {
  const r = init.ranges.tcDelayMs;
  const dnatMode = h('select', {
    id: 'knob-dnatMode',
    title: 'random: iptables -m statistic --mode random (kube-proxy); round-robin: -m statistic --mode nth --every N, or nft numgen inc',
  });
  for (const [v, l] of DNAT_LABELS) dnatMode.append(h('option', { value: v }, l));
  const libc = h('select', { id: 'knob-libc' }, h('option', { value: 'glibc' }, 'glibc'), h('option', { value: 'musl' }, 'musl (Alpine)'));
  const nodeLocal = h('input', { type: 'checkbox', id: 'knob-nodeLocalDns' });
  const tcDelay = h('input', {
    type: 'number',
    id: 'knob-tcDelayMs',
    min: r?.min ?? 0,
    max: r?.max ?? 1000,
    step: 'any',
    title: 'tc qdisc netem delay on the pod egress: one qdisc releases the datagrams one after the other',
  });
  const workarounds = h('input', { type: 'checkbox', id: 'workarounds', checked: true });
  const label = (text: string, el: HTMLElement) => h('label', { class: 'knob' }, h('span', null, text), el);
  const check = (box: HTMLInputElement, text: string) => h('label', { class: 'check' }, box, h('span', null, text));
  const element = h(
    'fieldset',
    { class: 'mitigations', id: 'mitigation-knobs' },
    h('legend', null, 'DNAT and mitigations'),
    h(
      'div',
      { class: 'knobs' },
      label('DNAT endpoint choice', dnatMode),
      label('Resolver library', libc),
      label(`tc delay (${r?.unit ?? 'ms'})`, tcDelay),
    ),
    h(
      'div',
      { class: 'mit-checks' },
      check(nodeLocal, 'NodeLocal DNSCache (pods query a NOTRACKed node-local address: no DNAT, no SNAT)'),
      check(workarounds, 'Also check every workaround: can I drop it after the backport?'),
    ),
  );
  return {
    element,
    read: () => ({
      dnatMode: dnatMode.value as EditableKnobs['dnatMode'],
      libc: libc.value as EditableKnobs['libc'],
      nodeLocalDns: nodeLocal.checked,
      tcDelayMs: tcDelay.value === '' ? NaN : Number(tcDelay.value),
      // The box keeps its state while an overflow scenario disables it; the form drops it there.
      workarounds: workarounds.checked,
    }),
    set(k, w, kind) {
      dnatMode.value = k.dnatMode ?? 'random';
      libc.value = k.libc ?? 'glibc';
      nodeLocal.checked = !!k.nodeLocalDns;
      tcDelay.value = String(k.tcDelayMs ?? 0);
      // The table needs a DNS race; the timed overflow run has no resolver (the box keeps its state).
      if (kind !== 'overflow') workarounds.checked = w;
      workarounds.disabled = kind === 'overflow';
    },
    summary: (k) =>
      [
        k.dnatMode === 'nth' ? 'DNAT round-robin' : '',
        k.libc === 'musl' ? 'musl' : '',
        k.nodeLocalDns ? 'NodeLocal DNSCache' : '',
        k.tcDelayMs > 0 ? `tc delay ${k.tcDelayMs} ms` : '',
      ]
        .filter(Boolean)
        .join(' · '),
  };
}

const VERDICT: Record<WorkaroundsView['rows'][number]['verdict'], [string, string]> = {
  baseline: ['', 'the reference row'],
  'still needed': ['Keep it', 'it still removes delays after the backport'],
  'can be dropped': ['Can be dropped', 'after the backport it changes nothing beyond noise'],
  'adds delays': ['Drop it', 'after the backport it adds delays'],
};

/** The card: per mitigation, the share of lookups delayed by a timeout on the tree and after the backport. */
export function workaroundsEl(r: PanelResult): HTMLElement | null {
  const w = r.workarounds;
  if (!w) return null;
  if (w.unavailable)
    return h(
      'section',
      { class: 'card workarounds' },
      h('h3', null, 'Can I drop my workaround?'),
      h('p', { class: 'muted' }, w.unavailable),
    );
  const same = w.before.variant === w.after.variant;
  const head = h(
    'tr',
    null,
    h('th', null, 'mitigation'),
    h('th', { class: 'num', title: w.before.label }, same ? 'lookups delayed' : 'delayed: this tree'),
    same ? null : h('th', { class: 'num', title: w.after.label }, 'delayed: after the backport'),
    h('th', null, 'after the backport'),
  );
  const none = w.rows.find((x) => x.id === 'none');
  const rows = w.rows.map((row) => {
    const [word, verdictWhy] = VERDICT[row.verdict];
    // Same share delayed but shorter waits (musl resends after timeout/attempts): say so.
    const shorter = none && row.id !== 'none' && row.after > 0 && row.meanAfterS < 0.8 * none.meanAfterS;
    const why = shorter
      ? `${verdictWhy}, but each delay is shorter (mean ${row.meanAfterS.toFixed(3)} s per lookup vs ${none.meanAfterS.toFixed(3)} s)`
      : verdictWhy;
    return h(
      'tr',
      { class: `verdict-${row.verdict.replace(/ /g, '-')}`, 'data-id': row.id },
      h('th', { scope: 'row', class: 'name' }, row.label),
      h('td', { class: 'num', title: `mean added latency ${row.meanBeforeS.toFixed(3)} s` }, pct(row.before)),
      same ? null : h('td', { class: 'num', title: `mean added latency ${row.meanAfterS.toFixed(3)} s` }, pct(row.after)),
      h('td', { class: 'verdict-cell' }, word ? h('strong', null, word) : '', word ? `: ${why}` : h('span', { class: 'muted' }, why)),
    );
  });
  return h(
    'section',
    { class: 'card workarounds', id: 'workarounds' },
    h('h3', null, 'Can I drop my workaround?'),
    h(
      'p',
      { class: 'muted small' },
      `Share of DNS lookups delayed by at least one ${w.timeoutS} s resolver timeout, each mitigation on its own (${w.trials.toLocaleString('en-US')} lookups per cell). ` +
        'Rows compare against "no mitigation" after the backport: within 3 standard errors counts as no change.',
    ),
    h(
      'p',
      { class: 'variants small' },
      h('span', { class: 'muted' }, same ? 'variant ' : 'this tree '),
      h('strong', null, w.before.label),
      same ? null : h('span', { class: 'muted' }, '  →  after the backport '),
      same ? null : h('strong', null, w.after.label),
    ),
    h('table', { class: 'workaround-table' }, h('thead', null, head), h('tbody', null, ...rows)),
  );
}

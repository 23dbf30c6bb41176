// Exporters of a Matrix: Markdown (for tickets and SRU cover letters), CSV (spreadsheets),
// JSON (CI and the matrix view). One row per ref; evidence as `ref:path:line` pointers.

import type { EvidencePointer, FeatureCell, Matrix, MatrixRow, RaceCell } from './types';

export const COLUMNS = [
  'ref',
  'kind',
  'date',
  'status',
  'race1',
  'race1 variant',
  'race2',
  'race2 variant',
  'race3',
  'race4',
  'zone follow-up',
  'rework 2020',
  'reverse 2024',
  'blob',
  'path',
  'evidence',
  'note',
] as const;

export function isoDate(d: number | null): string {
  return d === null ? '' : new Date(d * 1000).toISOString().slice(0, 10);
}

export function pointerText(p: EvidencePointer): string {
  return p.layer === 'history' ? `commit ${p.ref}` : `${p.ref}:${p.path}${p.line ? `:${p.line}` : ''}`;
}

const feature = (f: FeatureCell): string => (f.present === 'unknown' ? 'unknown' : f.present ? 'yes' : 'no');
const race = (c: RaceCell): string => c.verdict + (c.disagreement ? ' (history disagrees)' : '');

/** The first supporting pointer of each race cell, which is what a reviewer opens first. */
function keyEvidence(r: MatrixRow): string {
  const ps = [r.race1, r.race2, r.race3, r.race4]
    .map((c) => c.evidence.find((e) => e.supports) ?? c.evidence[0])
    .filter((p): p is EvidencePointer => !!p);
  return [...new Set(ps.map(pointerText))].join(' ');
}

export function rowCells(r: MatrixRow): string[] {
  return [
    r.short,
    r.kind,
    isoDate(r.date),
    r.status,
    race(r.race1),
    r.race1.variant ?? '',
    race(r.race2),
    r.race2.variant ?? '',
    race(r.race3),
    race(r.race4),
    feature(r.zone),
    feature(r.rework),
    feature(r.reverse),
    r.blob ? r.blob.slice(0, 12) : '',
    r.path ?? '',
    keyEvidence(r),
    r.note ?? '',
  ];
}

function csvField(s: string): string {
  // Leading = + - @ would run as a formula in a spreadsheet: quote it as text.
  const t = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(t) || t !== s ? `"${t.replace(/"/g, '""')}"` : t;
}

export function toCsv(m: Matrix): string {
  return [COLUMNS.join(','), ...m.rows.map((r) => rowCells(r).map(csvField).join(','))].join('\n') + '\n';
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function toMarkdown(m: Matrix): string {
  const out: string[] = [];
  out.push(`# nf_conntrack race fixes per ref`, '');
  out.push(
    `Repository \`${m.repo}\`, file \`${m.path}\`, ${m.stats.refs} refs (${m.stats.distinctBlobs} distinct blobs), ${m.generatedAt}.`,
    '',
  );
  const cols = COLUMNS.filter((c) => c !== 'path' && c !== 'blob');
  out.push(`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`);
  for (const r of m.rows) {
    const cells = rowCells(r);
    out.push(`| ${cols.map((c) => mdCell(cells[COLUMNS.indexOf(c)])).join(' | ')} |`);
  }
  if (m.entered.length) {
    out.push('', '## Where each fix entered', '', '| fix | line | first ref carrying it | date | variant |', '|---|---|---|---|---|');
    for (const e of m.entered) out.push(`| ${e.fix} | ${mdCell(e.line)} | ${mdCell(e.ref)} | ${isoDate(e.date)} | ${e.variant ?? ''} |`);
  }
  if (m.lost.length) {
    out.push(
      '',
      '## Where a fix was lost again',
      '',
      '| fix | line | lost at | last carried by | cause | explanation |',
      '|---|---|---|---|---|---|',
    );
    for (const l of m.lost)
      out.push(`| ${l.fix} | ${mdCell(l.line)} | ${mdCell(l.ref)} | ${mdCell(l.lastCarrying)} | ${l.cause} | ${mdCell(l.explain)} |`);
  }
  if (m.restored.length) {
    out.push('', '## Where a lost fix came back', '', '| fix | line | restored at | lost at | variant |', '|---|---|---|---|---|');
    for (const r of m.restored) out.push(`| ${r.fix} | ${mdCell(r.line)} | ${mdCell(r.ref)} | ${mdCell(r.lostAt)} | ${r.variant ?? ''} |`);
  }
  if (m.warnings.length) out.push('', '## Warnings', '', ...m.warnings.map((w) => `- ${w}`));
  return out.join('\n') + '\n';
}

export function toJson(m: Matrix): string {
  return JSON.stringify(m, null, 2) + '\n';
}

export type ExportFormat = 'markdown' | 'csv' | 'json';

export function exportMatrix(m: Matrix, format: ExportFormat): string {
  return format === 'csv' ? toCsv(m) : format === 'markdown' ? toMarkdown(m) : toJson(m);
}

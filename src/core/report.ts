// Human renderings of a detection result: terminal text and Markdown (report export).

import { RACES } from './types';
import type { DetectionResult, Evidence, RaceVerdict } from './types';

const RACE_TITLES: Record<string, string> = {
  race1: 'Race 1 — identical tuples, NAT done (ed07d9a021df)',
  race2: 'Race 2 — SNAT picks another port for a same-origin entry (4e35c1cb9460)',
  race3: 'Race 3 — DNAT to different endpoints (2020 rework, 6a757c07e51f)',
  race4: 'Race 4 — nfqueue redoes NAT against a clashing entry on reinject (2024, 8af79d3edb5f)',
};

function evidenceLine(e: Evidence): string {
  const where = e.startLine ? `${e.file}:${e.startLine}${e.endLine && e.endLine !== e.startLine ? `-${e.endLine}` : ''}` : e.file;
  const fn = e.function ? ` ${e.function}()` : '';
  const cond = e.condition ? ` [#if ${e.condition}]` : '';
  return `[${e.layer}] ${e.supports ? '+' : '-'} ${where}${fn}${cond}: ${e.site}${e.note ? ` (${e.note})` : ''}`;
}

export function verdictLabel(v: RaceVerdict): string {
  return `${v.verdict.toUpperCase()}${v.variant ? ` (${v.variant})` : ''}${v.condition ? ` when ${v.condition}` : ''}`;
}

export function formatDetection(r: DetectionResult, style: 'text' | 'markdown'): string {
  const md = style === 'markdown';
  const out: string[] = [];
  out.push(md ? `# nf_conntrack race fixes: ${r.file}` : `${r.file}`);
  if (!r.kernelFile) {
    out.push(md ? `\n**Not analysed:** ${r.reason}` : `  not analysed: ${r.reason}`);
    return out.join('\n');
  }
  if (r.reason) out.push(md ? `\n_Note: ${r.reason}_` : `  note: ${r.reason}`);
  for (const race of RACES) {
    const v = r.races[race];
    if (md) {
      out.push(
        `\n## ${RACE_TITLES[race]}\n\n**${verdictLabel(v)}** — ${v.explain}${v.decidedBy ? ` _(decided by the ${v.decidedBy} layer)_` : ''}\n`,
      );
      if (v.disagreement) out.push(`> ⚠ ${v.disagreement}\n`);
      for (const e of v.evidence) out.push(`- ${evidenceLine(e)}`);
    } else {
      out.push(`  ${race}: ${verdictLabel(v)} — ${v.explain}`);
      if (v.disagreement) out.push(`    ! ${v.disagreement}`);
      for (const e of v.evidence) out.push(`    ${evidenceLine(e)}`);
    }
  }
  const extras = [
    `zone follow-up 07998281c268: ${r.zoneFollowup.present}`,
    `2020 rework: ${r.rework2020.present}`,
    `2024 reverse collisions: ${r.reverse2024.present}`,
  ];
  out.push(md ? `\n## Other findings\n\n${extras.map((e) => `- ${e}`).join('\n')}` : `  ${extras.join('; ')}`);
  if (r.history) {
    const h = r.history;
    const line = h.available
      ? `history: ${h.commitsTouchingFile} commit${h.commitsTouchingFile === 1 ? ' touches' : 's touch'} the file; ${h.commits.length} match${h.commits.length === 1 ? 'es' : ''} the catalogue`
      : `history: ${h.reason}`;
    out.push(md ? `- ${line}` : `  ${line}`);
  }
  return out.join('\n');
}

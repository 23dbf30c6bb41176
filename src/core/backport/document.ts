// Human renderings of a plan: the preview document (text or Markdown) and the SRU cover letter
// with its five sections, filled from the detection result that produced the plan.

import { entry } from '../catalogue';
import type { DetectionResult } from '../types';
import { bugLink, formatIdentity, Identity, mailSubject, wrap } from './messages';
import type { BackportPlan, PlanStep } from './plan';

function sourceText(s: PlanStep): string {
  if (s.kind === 'revert') return `found by ${s.foundBy}`;
  if ('patchFile' in s.source) return `from ${s.source.patchFile} (message ${s.source.index + 1}, git am -3)`;
  return s.source.remote ? `fetched by id from remote '${s.source.remote}'` : 'already in the repository';
}

export function stepLine(s: PlanStep, i: number): string {
  const verb = s.kind === 'revert' ? 'revert     ' : 'cherry-pick';
  return `${i + 1}. ${verb} ${s.sha.slice(0, 12)}  ${s.subject}  [${s.variant}; ${sourceText(s)}]`;
}

export function formatPlan(plan: BackportPlan, style: 'text' | 'markdown' = 'text', messages?: string[]): string {
  const md = style === 'markdown';
  const out: string[] = [];
  out.push(md ? `# Backport plan: ${plan.file}` : `backport plan for ${plan.file}`);
  out.push(md ? '\n## Before\n' : 'before:');
  for (const [race, v] of Object.entries(plan.before)) out.push(md ? `- ${race}: ${v}` : `  ${race}: ${v}`);
  if (plan.blocked) out.push(md ? `\n**Blocked:** ${plan.blocked}` : `blocked: ${plan.blocked}`);
  else if (plan.noop) out.push(md ? `\n**Nothing to do:** ${plan.noop}` : `nothing to do: ${plan.noop}`);
  else {
    out.push(
      md
        ? `\n## Steps (on ${plan.options.branch ? `new branch \`${plan.options.branch}\`` : 'the current branch'})\n`
        : `steps (on ${plan.options.branch ? `new branch ${plan.options.branch}` : 'the current branch'}):`,
    );
    plan.steps.forEach((s, i) => {
      out.push(md ? `${stepLine(s, i)}\n   - why: ${s.why}` : `  ${stepLine(s, i)}\n     why: ${s.why}`);
      const m = messages?.[i];
      if (m) out.push(md ? '\n```text\n' + m.trimEnd() + '\n```\n' : m.trimEnd().replace(/^/gm, '       | '));
    });
  }
  for (const n of plan.notes) out.push(md ? `\n> note: ${n}` : `note: ${n}`);
  for (const w of plan.warnings) out.push(md ? `\n> warning: ${w}` : `warning: ${w}`);
  return out.join('\n');
}

export interface CoverLetterInput {
  plan: BackportPlan;
  detection: DetectionResult;
  /** The upstream subjects/authors for the shortlog (defaults from the catalogue). */
  authors?: Record<string, string>;
  signoff?: Identity;
  title?: string;
  /** Files and +/- counts (from predictDiff) for the diffstat line. */
  diffstat?: { path: string; added: number; removed: number }[];
  /** Measured [Test Plan] lines (testPlanSection() of a test plan run): commands and the before/after table, kept verbatim. */
  testPlan?: string[];
}

/** `[SRU][<Series>][PATCH 0/N] …` with [Impact], [Fix], [Test Plan], [Where problems could occur], [Other Info]. */
export function coverLetter(c: CoverLetterInput): string {
  const { plan, detection: d } = c;
  const n = plan.steps.length;
  const title = c.title ?? 'netfilter: nf_conntrack: replace the conntrack clash fixes with the upstream commits';
  const lines: string[] = [];
  const para = (text: string): void => {
    lines.push(...wrap(text, 72));
  };
  lines.push(`Subject: ${mailSubject(title, 0, n, plan.options.series, plan.options.style)}`, '');
  if (plan.options.bug !== undefined) lines.push(bugLink(plan.options.bug), '');

  lines.push('[Impact]', '');
  const missing = (['race1', 'race2'] as const).filter((r) => d.races[r].verdict !== 'fixed' || d.races[r].variant?.startsWith('azure-'));
  para(
    'When two packets of one UDP flow leave the same socket at the same time (glibc and musl send DNS A and AAAA queries this way), both can create a conntrack entry before either is confirmed. One of them then loses at confirm time and is dropped; the client waits for its resolver timeout, typically 5 seconds. Kubernetes nodes see this as intermittent DNS timeouts.',
  );
  lines.push('');
  para(
    `This tree: race 1 (identical tuples after NAT) is ${plan.before.race1}; race 2 (SNAT picks another port for a same-origin entry) is ${plan.before.race2}.`,
  );
  if (missing.length) {
    lines.push('');
    for (const r of missing) para(`- ${r === 'race1' ? 'race 1' : 'race 2'}: ${d.races[r].explain}`);
  }
  lines.push('');

  lines.push('[Fix]', '');
  const reverts = plan.steps.filter((s) => s.kind === 'revert');
  const picks = plan.steps.filter((s) => s.kind === 'cherry-pick');
  if (reverts.length) {
    para('Revert the pre-upstream versions first, as they differ from what was merged and would otherwise sit next to the upstream code:');
    for (const s of reverts) lines.push(`  ${s.sha.slice(0, 12)} ${s.subject}`);
    lines.push('');
  }
  if (picks.length) {
    para('Then cherry-pick the upstream commits:');
    for (const s of picks) {
      const e = entry(s.variant);
      lines.push(`  ${s.sha.slice(0, 12)} ${s.subject}`, `    upstream in ${e.kernel}`);
    }
    lines.push('');
  }
  if (!n) para(plan.noop ?? plan.blocked ?? 'Nothing to change.');

  lines.push('[Test Plan]', '');
  if (c.testPlan?.length) lines.push(...c.testPlan, '');
  para(
    'Build the kernel and boot it on a node that runs the reproducer: two threads send UDP datagrams from one socket to one destination through SNAT (for example DNS A and AAAA queries from a pod through kube-proxy), in a loop. Before the fix `conntrack -S` shows insert_failed and drop growing and the client sees 5 s timeouts; with the fix both stay flat and no query times out.',
  );
  lines.push('');
  para(
    'Check the source with conntrack-backport: `conntrack-backport detect <tree>` must report race 1 and race 2 fixed by ed07d9a021df and 4e35c1cb9460 and no azure variant.',
  );
  lines.push('');

  lines.push('[Where problems could occur]', '');
  para(
    "The change is limited to clash resolution for entries that race at confirm time (nf_ct_resolve_clash() and nf_conntrack_tuple_taken()). A mistake would show as entries merged that should not be (traffic of one flow handled with the other entry's NAT binding) or as the old drops coming back. 4e35c1cb9460 has been in stable 4.9.163, 4.14.106, 4.19.29 and 4.20.16 without changes.",
  );
  if (reverts.length) {
    lines.push('');
    para(
      'The reverts remove code that carried the same intent; if a later commit in this tree built on the pre-upstream versions, the revert would not apply, and the plan would have stopped.',
    );
  }
  lines.push('');

  lines.push('[Other Info]', '');
  const ev = (['race1', 'race2'] as const).flatMap((r) =>
    d.races[r].evidence.slice(0, 3).map((e) => `  ${r}: [${e.layer}] ${e.function ? `${e.function}() ` : ''}${e.site}`),
  );
  if (ev.length) {
    para('Detection evidence (conntrack-backport):');
    lines.push(...ev.map((l) => (l.length > 100 ? l.slice(0, 97) + '...' : l)));
    lines.push('');
  }
  if (reverts.some((s) => s.variant.startsWith('azure-'))) {
    para('The pre-upstream versions come from patchwork 937963 and 952939 (LP: #1795493).');
    lines.push('');
  }
  for (const note of plan.notes) para(`Note: ${note}`);

  // Shortlog and diffstat, as git format-patch --cover-letter lays them out.
  if (n) {
    lines.push('');
    const byAuthor = new Map<string, string[]>();
    for (const s of plan.steps) {
      const a = s.kind === 'revert' ? (c.signoff ? c.signoff.name : 'Submitter') : (c.authors?.[s.sha] ?? 'Martynas Pumputis');
      byAuthor.set(a, [...(byAuthor.get(a) ?? []), s.kind === 'revert' ? `Revert "${s.subject}"` : s.subject]);
    }
    for (const [a, subjects] of byAuthor) {
      lines.push(`${a} (${subjects.length}):`);
      for (const s of subjects) lines.push(`  ${s}`);
      lines.push('');
    }
    if (c.diffstat?.length) {
      for (const f of c.diffstat)
        lines.push(` ${f.path} | ${f.added + f.removed} ${'+'.repeat(Math.min(f.added, 30))}${'-'.repeat(Math.min(f.removed, 30))}`);
      const add = c.diffstat.reduce((x, f) => x + f.added, 0);
      const del = c.diffstat.reduce((x, f) => x + f.removed, 0);
      lines.push(` ${c.diffstat.length} file${c.diffstat.length > 1 ? 's' : ''} changed, ${add} insertions(+), ${del} deletions(-)`, '');
    }
  }
  if (c.signoff) lines.push('-- ', formatIdentity(c.signoff));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

/** Added/removed line counts of a unified diff, for the cover letter's diffstat. */
export function diffstat(files: { path: string; patch: string }[]): { path: string; added: number; removed: number }[] {
  return files.map((f) => {
    let added = 0;
    let removed = 0;
    for (const l of f.patch.split('\n').slice(2)) {
      if (l.startsWith('+') && !l.startsWith('+++')) added++;
      else if (l.startsWith('-') && !l.startsWith('---')) removed++;
    }
    return { path: f.path, added, removed };
  });
}

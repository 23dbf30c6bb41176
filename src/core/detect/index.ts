// The detection entry points: text -> result (source layer), and a path in a kernel checkout
// -> result with the history layer and the nf_nat_core.c scan joined in.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GitReader } from '../git/reader';
import type { DetectionResult, Evidence, HistoryReport, RaceVerdict, VariantId } from '../types';
import { decodeSource, resolveTarget } from './input';
import { scanNatCore } from './nat';
import { joinNfqueue, scanNfqueue } from './nfqueue';
import { detectSource, notKernelResult } from './source';

export { detectSource } from './source';
export { CORE_REL_PATH, NAT_REL_PATH, NFQUEUE_REL_PATH } from './input';

/** Detection on text already in memory (the editor's document, a blob at a ref). */
export async function detectText(text: string, file: string): Promise<DetectionResult> {
  return detectSource(text, file);
}

export async function detectBuffer(buf: Uint8Array, file: string): Promise<DetectionResult> {
  const dec = decodeSource(buf);
  if (!dec.ok) return notKernelResult(file, dec.reason);
  const r = await detectSource(dec.text, file);
  if (dec.notes.length) r.reason = [r.reason, ...dec.notes].filter(Boolean).join('; ');
  return r;
}

export interface DetectOptions {
  /** Read git history when the file is in a checkout (default true). */
  history?: boolean;
  git?: GitReader;
  /** Also scan nf_nat_core.c for the azure 952939 hypothesis (default true). */
  nat?: boolean;
  /** Upstream commit ids for the patch-id layer (mirrors). */
  overrides?: Partial<Record<VariantId, string>>;
}

export class TargetError extends Error {}

async function cliGit(dir: string): Promise<GitReader> {
  const { CliGitReader } = await import('../git/reader');
  return new CliGitReader(dir);
}

/**
 * False only when git could not find a repository for `dir` either: no `.git` (directory or
 * gitfile) in it or above it, and none of the variables that point git elsewhere is set.
 */
export function mayBeInGitCheckout(dir: string): boolean {
  if (process.env.GIT_DIR || process.env.GIT_WORK_TREE) return true;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}

/** A kernel tree, nf_conntrack_core.c inside one, or a loose copy of the file. */
export async function detectPath(target: string, opts: DetectOptions = {}): Promise<DetectionResult> {
  const t = resolveTarget(target);
  if (!t.ok) throw new TargetError(t.reason);
  const result = await detectBuffer(fs.readFileSync(t.file), t.file);
  if (!result.kernelFile) return result;
  if (opts.nat !== false && t.natFile) {
    const dec = decodeSource(fs.readFileSync(t.natFile));
    if (dec.ok) {
      const findings = scanNatCore(dec.text, t.natFile);
      result.related = [{ file: t.natFile, findings }];
      joinNatFindings(result, findings);
    }
  }
  if (t.nfqueueFile) {
    const dec = decodeSource(fs.readFileSync(t.nfqueueFile));
    if (dec.ok) {
      const findings = scanNfqueue(dec.text, t.nfqueueFile);
      result.related = [...(result.related ?? []), { file: t.nfqueueFile, findings }];
      joinNfqueue(result, t.nfqueueFile, findings);
    }
  }
  if (opts.history !== false) {
    // Loaded on demand: a source-only run (tarball, --no-history) never pays for git, and a
    // file with no .git above it (an unpacked tarball) does not even start a git process.
    const dir = path.dirname(path.resolve(t.file));
    const git = opts.git ?? (mayBeInGitCheckout(dir) ? await cliGit(dir) : undefined);
    const root = git ? await git.root() : null;
    if (git && root) {
      const { analyzeHistory } = await import('../history/analyze');
      const rel = path.relative(root, path.resolve(t.file)).split(path.sep).join('/');
      const natRel = t.natFile ? path.relative(root, path.resolve(t.natFile)).split(path.sep).join('/') : undefined;
      result.history = await analyzeHistory(git, natRel ? [rel, natRel] : [rel], { overrides: opts.overrides });
      joinHistory(result, result.history);
    } else {
      result.history = {
        available: false,
        reason: 'not inside a git checkout: source layer only',
        commitsTouchingFile: 0,
        commits: [],
        net: {},
      };
    }
  }
  return result;
}

/**
 * What a whole-tree run knows beyond one file's text (history, the nf_nat_core.c scan), laid
 * over a fresh source-layer result — e.g. the editor's live text, so that its lenses say
 * "azure-937963" where the code alone can only say "ed07d9a021df".
 */
export interface TreeContext {
  history?: HistoryReport;
  related?: DetectionResult['related'];
}

export function contextOf(r: DetectionResult): TreeContext {
  return { history: r.history, related: r.related };
}

export function applyContext(r: DetectionResult, c: TreeContext): DetectionResult {
  if (!r.kernelFile) return r;
  for (const rel of c.related ?? []) {
    r.related = [...(r.related ?? []), rel];
    if (/nfnetlink_queue\.c$/.test(rel.file)) joinNfqueue(r, rel.file, rel.findings);
    else joinNatFindings(r, rel.findings);
  }
  if (c.history) {
    r.history = c.history;
    if (c.history.available) joinHistory(r, c.history);
  }
  return r;
}

function joinNatFindings(r: DetectionResult, findings: Evidence[]): void {
  if (!findings.length) return;
  const v = r.races.race2;
  v.evidence.push(...findings);
  if (v.verdict === 'missing') {
    r.races.race2 = {
      ...v,
      verdict: 'fixed',
      variant: 'azure-952939',
      explain: `non-upstream race-2 variant (azure-952939?) in nf_nat_core.c: ${findings[0].function}() reuses the reply tuple of a confirmed same-origin entry (hypothesis: 952939's code is not public)`,
    };
  } else if (v.verdict === 'fixed' && v.variant === '4e35c1cb9460') {
    v.explain += `; nf_nat_core.c also has a same-origin reply-tuple reuse in ${findings[0].function}() (azure 952939 not reverted?)`;
  }
  if (!r.variantsPresent.includes('azure-952939')) r.variantsPresent.push('azure-952939');
}

function historyEvidence(h: HistoryReport, file: string, variant: string): Evidence[] {
  return h.commits
    .filter((c) => c.variant === variant)
    .map((c) => ({
      layer: 'history' as const,
      file,
      commit: c.sha,
      site: `${c.sha.slice(0, 12)} ${c.subject}${c.upstream ? ` (${c.provenance ?? c.matchedBy} ${c.upstream.slice(0, 12)})` : ''}`,
      variant: c.variant,
      supports: !c.reverts,
      note: `matched by ${c.matchedBy}`,
    }));
}

/** History agrees, refines (azure vs upstream), or disagrees with the source layer. Mutates `r`. */
export function joinHistory(r: DetectionResult, h: HistoryReport): void {
  const file = h.relPath ?? r.file;
  const applied = (v: string): boolean => (h.net as Record<string, string>)[v] === 'applied';
  const reverted = (v: string): boolean => (h.net as Record<string, string>)[v] === 'reverted';

  const r1 = r.races.race1;
  r1.evidence.push(...historyEvidence(h, file, 'ed07d9a021df'), ...historyEvidence(h, file, 'azure-937963'));
  if (r1.verdict === 'fixed' && r1.variant === 'ed07d9a021df' && applied('azure-937963') && !applied('ed07d9a021df')) {
    r1.variant = 'azure-937963';
    r1.decidedBy = 'history';
    r1.explain =
      'azure 937963 present: the code equals ed07d9a021df, and history shows the pre-upstream azure commit (not reverted); the SRU reverts it and picks ed07d9a021df';
    if (!r.variantsPresent.includes('azure-937963')) r.variantsPresent.push('azure-937963');
  }
  disagree(r1, applied('ed07d9a021df') || applied('azure-937963'), reverted('ed07d9a021df') || reverted('azure-937963'), 'race 1');

  const r2 = r.races.race2;
  r2.evidence.push(
    ...historyEvidence(h, file, '4e35c1cb9460'),
    ...historyEvidence(h, file, '07998281c268'),
    ...historyEvidence(h, file, 'azure-952939'),
  );
  if (applied('azure-952939')) {
    if (!r.variantsPresent.includes('azure-952939')) r.variantsPresent.push('azure-952939');
    if (r2.verdict === 'missing' || r2.verdict === 'unknown') {
      r.races.race2 = {
        ...r2,
        verdict: 'fixed',
        variant: 'azure-952939',
        decidedBy: 'history',
        explain:
          'azure 952939 ("return the same reply tuple for matching CTs") is applied per history and not reverted; its code is not public, so the source layer cannot show where it acts',
      };
    } else if (r2.verdict === 'fixed' && r2.variant === '4e35c1cb9460') {
      r2.explain += '; history also shows azure 952939 applied and not reverted: two race-2 mechanisms (the SRU reverts 952939 first)';
    }
  }
  disagree(r.races.race2, applied('4e35c1cb9460'), reverted('4e35c1cb9460'), 'race 2');
}

function disagree(v: RaceVerdict, historyApplied: boolean, historyReverted: boolean, race: string): void {
  if (v.verdict === 'missing' && historyApplied)
    v.disagreement = `history shows the ${race} fix applied and not reverted, but the source does not have it (lost in a merge or rebase?)`;
  else if (v.verdict === 'fixed' && historyReverted && !historyApplied && v.decidedBy === 'source')
    v.disagreement = `history shows the ${race} fix reverted, yet the source still has its shape (re-applied without provenance?)`;
}

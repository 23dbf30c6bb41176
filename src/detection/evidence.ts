// "Show Evidence": every race's evidence in a quick pick, each row opening the matched lines in
// the editor, and a Markdown evidence report (the matched code quoted with its indentation, the
// history commits in full) for what a quick pick row cannot hold. Nothing is squeezed into a
// notification toast, which VS Code truncates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatDetection, raceSectionMarkdown, type LineReader } from '../core/report';
import type { DetectionResult, Evidence, RaceId } from '../core/types';
import type { Ctx, KernelTree } from '../ctx';
import { evidencePickRows, racePickRows, RACE_NAMES, relativizePaths } from './presentation';

/**
 * Lines of a file for the report: the editor's (possibly unsaved) text when it is open, else
 * the file on disk. Relative paths are read under `root` (reports use tree-relative paths).
 */
export function lineReader(root: string | undefined): LineReader {
  return (file) => {
    const abs = path.isAbsolute(file) || !root ? file : path.join(root, file);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === abs);
    if (doc) return doc.getText().split(/\r?\n/);
    try {
      return fs.readFileSync(abs, 'latin1').split('\n');
    } catch {
      return undefined;
    }
  };
}

/** The whole-tree report as Markdown, with matched code quoted from the tree. */
export function reportMarkdown(result: DetectionResult, root: string | undefined): string {
  const shown = root ? relativizePaths(result, root) : result;
  return formatDetection(shown, 'markdown', { readLines: lineReader(root) });
}

/** Opens one race's evidence (or every race's) as a read-only Markdown report. */
export async function showEvidenceReport(ctx: Ctx, result: DetectionResult, race: RaceId | undefined, tree?: KernelTree): Promise<void> {
  const root = tree?.root.fsPath ?? rootOf(result.file);
  if (!race) {
    await ctx.reports.show('conntrack-evidence', reportMarkdown(result, root));
    return;
  }
  const shown = root ? relativizePaths(result, root) : result;
  const md = [`# ${RACE_NAMES[race]} evidence: ${shown.file}`, raceSectionMarkdown(shown, race, { readLines: lineReader(root) })].join(
    '\n\n',
  );
  await ctx.reports.show(`conntrack-evidence-${race}`, md);
}

/** The tree root of a …/net/netfilter/nf_conntrack_core.c path (else its folder). */
function rootOf(file: string): string | undefined {
  if (!path.isAbsolute(file)) return undefined;
  const m = /^(.*)[\\/]net[\\/]netfilter[\\/][^\\/]+$/.exec(file);
  return m ? m[1] : path.dirname(file);
}

/** Opens the evidence's lines in an editor, selected; history evidence opens the race's report. */
export async function revealEvidence(ctx: Ctx, result: DetectionResult, race: RaceId, e: Evidence, tree?: KernelTree): Promise<void> {
  if (e.startLine === undefined) {
    await showEvidenceReport(ctx, result, race, tree);
    return;
  }
  const file = path.isAbsolute(e.file)
    ? vscode.Uri.file(e.file)
    : tree
      ? vscode.Uri.joinPath(tree.root, e.file)
      : vscode.Uri.file(path.resolve(e.file));
  const doc = await vscode.workspace.openTextDocument(file);
  const start = Math.max(e.startLine - 1, 0);
  const end = Math.min((e.endLine ?? e.startLine) - 1, doc.lineCount - 1);
  const range = new vscode.Range(start, 0, end, doc.lineAt(end).text.length);
  const editor = await vscode.window.showTextDocument(doc, { selection: range, preview: false });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  ctx.log.info(`evidence ${e.function ?? ''} ${e.file}:${e.startLine}-${e.endLine ?? e.startLine}`);
}

type Row<T> = vscode.QuickPickItem & { value: T };

/** The report row every evidence pick starts with. */
const REPORT_ROW = 'report' as const;

/**
 * A quick pick of `items` with a separator and one report row last. Resolves to the picked
 * item's value; undefined when dismissed, or after `openReport` ran for the report row.
 */
async function pickOrReport<T>(
  items: readonly Row<T>[],
  report: vscode.QuickPickItem,
  options: vscode.QuickPickOptions,
  openReport: () => Promise<void>,
): Promise<T | undefined> {
  const rows: Row<T | typeof REPORT_ROW>[] = [
    ...items.map((r) => ({ ...r })),
    { label: '', kind: vscode.QuickPickItemKind.Separator, value: REPORT_ROW },
    { ...report, value: REPORT_ROW },
  ];
  const pick = await vscode.window.showQuickPick(rows, options);
  if (!pick) return undefined;
  if (pick.value === REPORT_ROW) {
    await openReport();
    return undefined;
  }
  return pick.value as T;
}

/**
 * Race pick (when `race` is not given), then that race's evidence pick; `index` skips the
 * second pick. A race without evidence lines opens its report section instead of a toast.
 */
export async function pickEvidence(
  ctx: Ctx,
  result: DetectionResult,
  tree: KernelTree | undefined,
  race?: RaceId,
  index?: number,
): Promise<Evidence | undefined> {
  if (!race) {
    race = await pickOrReport(
      racePickRows(result),
      { label: '$(book) Evidence report: every race, with the matched code', detail: 'Opens a Markdown report beside the editor' },
      { placeHolder: 'Evidence for which race?', matchOnDetail: true },
      () => showEvidenceReport(ctx, result, undefined, tree),
    );
    if (!race) return undefined;
  }
  const v = result.races[race];
  if (!v) throw new Error(`unknown race "${race}" (race1 to race4)`);
  if (!v.evidence.length) {
    await showEvidenceReport(ctx, result, race, tree);
    return undefined;
  }
  if (index === undefined) {
    const chosen = race;
    index = await pickOrReport(
      evidencePickRows(v),
      { label: `$(book) ${RACE_NAMES[race]} report: verdict, reasons and the matched code` },
      {
        title: `${RACE_NAMES[race]}: ${v.explain}`,
        placeHolder: 'Pick a piece of evidence to open its lines, or the report',
        matchOnDescription: true,
        matchOnDetail: true,
      },
      () => showEvidenceReport(ctx, result, chosen, tree),
    );
    if (index === undefined) return undefined;
  }
  const e = v.evidence[index];
  if (!e) throw new Error(`${RACE_NAMES[race]} has ${v.evidence.length} evidence items; there is no item ${index}`);
  await revealEvidence(ctx, result, race, e, tree);
  return e;
}

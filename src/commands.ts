// The command table: each entry is (ctx) => handler. Handlers take optional arguments so
// lenses and tests can skip the pickers; without them they ask.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { planBackport } from './backport/commands';
import { showMatrix } from './matrix/panel';
import { CORE_REL_PATH } from './core/detect/input';
import { checkPatchText, PatchReport } from './core/patch/applied';
import { RACES, verdictLabel } from './core/types';
import type { DetectionResult, RaceId } from './core/types';
import { Ctx, KernelTree } from './ctx';
import { isCoreDocument } from './detection/service';
import { CMD, CORE_FILE_NAME } from './ids';
import { pickEvidence, reportMarkdown } from './detection/evidence';
import { hunkPickRows, patchSummary, RACE_NAMES, relativizePaths } from './detection/presentation';
import type { ImportStatsArgs, OpenSimulationArgs } from './simulation/commands';
import { timings } from './timings';
import { cancelTestPlan, runTestPlanCommand } from './testplan/commands';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- VS Code passes untyped arguments
type Handler = (...args: any[]) => unknown;
type Factory = (ctx: Ctx) => Handler;

const asUri = (u: vscode.Uri | string | undefined): vscode.Uri | undefined => (typeof u === 'string' ? vscode.Uri.parse(u) : u);

function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
}

/** Runs the whole-tree detection with progress; git history only in a trusted workspace. */
async function detectTree(ctx: Ctx, tree: KernelTree): Promise<DetectionResult> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Conntrack: detecting race fixes' }, () =>
    ctx.detection.detectTree(tree.coreFile.fsPath, { history: ctx.mayReadGit }),
  );
}

/** The result behind an evidence request: the live document when it is open, else the tree on disk. */
async function resultFor(ctx: Ctx, uri: vscode.Uri | undefined): Promise<{ result: DetectionResult; tree?: KernelTree } | undefined> {
  const active = vscode.window.activeTextEditor?.document;
  const doc = uri ? openDocument(uri) : active && isCoreDocument(active) ? active : undefined;
  if (doc && isCoreDocument(doc)) return { result: await ctx.detection.forDocument(doc) };
  const tree = await ctx.pickTree(uri);
  if (!tree) return undefined;
  return { result: ctx.detection.treeResult(tree.coreFile.fsPath) ?? (await detectTree(ctx, tree)), tree };
}

function verdictLine(r: DetectionResult): string {
  return RACES.map((race) => `${RACE_NAMES[race]} ${verdictLabel(r.races[race].verdict)}`).join(', ');
}

const detect: Factory = (ctx) => async (target?: vscode.Uri | string) => {
  const tree = await ctx.pickTree(asUri(target));
  if (!tree) return undefined;
  const result = await detectTree(ctx, tree);
  const notes: string[] = [];
  const doc = openDocument(tree.coreFile);
  if (doc?.isDirty) notes.push('> The file has unsaved changes: this report reads the saved file; the code lens shows the unsaved text.');
  if (result.history && !result.history.available) notes.push(`> History layer: ${result.history.reason}.`);
  await ctx.reports.show('conntrack-report', [reportMarkdown(result, tree.root.fsPath), ...notes].join('\n\n'));
  if (!result.kernelFile) {
    void vscode.window.showWarningMessage(
      `Conntrack: ${vscode.workspace.asRelativePath(tree.coreFile)} was not analysed: ${result.reason}`,
    );
    return result;
  }
  const actions = ['Show Evidence', 'Export Report'];
  void vscode.window.showInformationMessage(`Conntrack: ${verdictLine(result)}.`, ...actions).then((choice) => {
    if (choice === actions[0]) void vscode.commands.executeCommand(CMD.showEvidence, undefined, undefined, tree.coreFile);
    else if (choice === actions[1]) void vscode.commands.executeCommand(CMD.exportReport);
  });
  return result;
};

const showEvidence: Factory = (ctx) => async (race?: RaceId | vscode.Uri, index?: number, uri?: vscode.Uri | string) => {
  // Editor menus pass the resource as the first argument.
  if (race instanceof vscode.Uri) [uri, race, index] = [race, undefined, undefined];
  const found = await resultFor(ctx, asUri(uri));
  if (!found) return undefined;
  const { result, tree } = found;
  if (!result.kernelFile) {
    void vscode.window.showWarningMessage(`Conntrack: not analysed: ${result.reason}`);
    return undefined;
  }
  return pickEvidence(ctx, result, tree, race, index);
};

/** Reads a file of the tree for the patch check: the editor's unsaved text first, then disk. */
function treeReader(tree: KernelTree): (p: string) => string | null {
  const inTree = tree.coreFile.fsPath.endsWith(path.sep + CORE_REL_PATH.split('/').join(path.sep));
  return (p) => {
    const file = inTree
      ? path.join(tree.root.fsPath, p)
      : path.basename(p) === path.basename(tree.coreFile.fsPath)
        ? tree.coreFile.fsPath
        : path.join(path.dirname(tree.coreFile.fsPath), path.basename(p));
    const doc = openDocument(vscode.Uri.file(file));
    if (doc) return doc.getText();
    return fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : null;
  };
}

const checkPatch: Factory = (ctx) => async (patch?: vscode.Uri | string, target?: vscode.Uri | string) => {
  let patchUri = asUri(patch);
  // From the editor's context menu the "patch" is the open nf_conntrack_core.c: it is the target.
  if (patchUri && path.basename(patchUri.path) === CORE_FILE_NAME) [target, patchUri] = [patchUri, undefined];
  const tree = await ctx.pickTree(asUri(target));
  if (!tree) return undefined;
  if (!patchUri) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Check Patch',
      defaultUri: tree.root,
      filters: { 'Patches and mailboxes': ['patch', 'diff', 'mbox', 'eml'], 'All files': ['*'] },
    });
    patchUri = picked?.[0];
    if (!patchUri) return undefined;
  }
  const text = new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(patchUri));
  const reports: PatchReport[] = checkPatchText(text, treeReader(tree));
  const name = path.basename(patchUri.fsPath);
  ctx.log.info(`check-patch ${name}: ${patchSummary(reports)}`);
  for (const r of reports)
    for (const f of r.files)
      for (const h of f.hunks) ctx.log.info(`  ${f.path} hunk ${h.index} ${h.state}${h.line ? ` @${h.line}` : ''}: ${h.reason}`);

  // Not awaited: the report stays open for navigation while the command returns its data.
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { value: { file: string; line?: number } }>();
  qp.title = `${name}: ${reports.map((r) => r.overall).join(', ')}`;
  qp.placeholder = `${reports.map((r) => r.explain).join('; ')} — pick a hunk to open where it was found`;
  qp.matchOnDescription = qp.matchOnDetail = true;
  qp.items = hunkPickRows(reports).map((r) => ({ ...r }));
  qp.onDidAccept(async () => {
    const sel = qp.selectedItems[0];
    if (!sel?.value.line) return;
    qp.hide();
    const file = vscode.Uri.file(path.isAbsolute(sel.value.file) ? sel.value.file : path.join(tree.root.fsPath, sel.value.file));
    const line = sel.value.line - 1;
    await vscode.window
      .showTextDocument(file, { selection: new vscode.Range(line, 0, line, 0) })
      .then(undefined, () => vscode.window.showTextDocument(tree.coreFile, { selection: new vscode.Range(line, 0, line, 0) }));
  });
  qp.onDidHide(() => qp.dispose());
  qp.show();
  return reports;
};

const exportReport: Factory = (ctx) => async (dest?: vscode.Uri | string, format?: 'markdown' | 'json') => {
  const tree = await ctx.pickTree();
  if (!tree) return undefined;
  let out = asUri(dest);
  if (!out) {
    out = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(tree.root, 'conntrack-report.md'),
      filters: { Markdown: ['md'], JSON: ['json'] },
      saveLabel: 'Export Report',
      title: 'Export the conntrack race-fix report',
    });
    if (!out) return undefined;
  }
  // Always fresh: the file may have changed since the last run.
  const fresh = await detectTree(ctx, tree);
  const fmt = format ?? (out.path.toLowerCase().endsWith('.json') ? 'json' : 'markdown');
  const content =
    fmt === 'json' ? JSON.stringify(relativizePaths(fresh, tree.root.fsPath), null, 2) : reportMarkdown(fresh, tree.root.fsPath);
  await vscode.workspace.fs.writeFile(out, new TextEncoder().encode(content + '\n'));
  ctx.log.info(`report (${fmt}) written to ${out.fsPath}`);
  void vscode.window.showInformationMessage(`Conntrack report written to ${vscode.workspace.asRelativePath(out)}.`, 'Open').then((c) => {
    if (c) void vscode.window.showTextDocument(out!);
  });
  return out;
};

/**
 * What a command needs before its handler runs. `trust`: it reads git history or changes the
 * repository, which Restricted Mode does not allow; the table refuses it with a message (and
 * returns `{ refused }` to callers such as tests) instead of hiding it from the palette.
 */
export interface CommandSpec {
  run: Factory;
  needs?: { trust?: string };
}

export const COMMANDS: Record<string, CommandSpec> = {
  [CMD.detect]: { run: detect },
  [CMD.showEvidence]: { run: showEvidence },
  [CMD.checkPatch]: { run: checkPatch },
  [CMD.planBackport]: { run: planBackport, needs: { trust: 'Planning a backport reads git history and fetches the upstream commits' } },
  [CMD.openSimulation]: {
    run: (ctx) => (args?: OpenSimulationArgs | vscode.Uri) => ctx.simulation.open(args instanceof vscode.Uri ? { uri: args } : args),
  },
  [CMD.importStats]: { run: (ctx) => (args?: ImportStatsArgs) => ctx.simulation.importStats(args) },
  [CMD.exportReport]: { run: exportReport },
  // Opens in Restricted Mode too: the panel then says why history is off (and runs no git).
  [CMD.showMatrix]: { run: (ctx) => (repo?: unknown, refs?: unknown) => showMatrix(ctx.ext, repo, refs) },
  [CMD.runTestPlan]: {
    run: (ctx) => runTestPlanCommand(ctx),
    needs: { trust: 'The test plan runs git (export, plan) and builds and boots the kernel' },
  },
  // The panel's Cancel button; the notification's own cancel does the same.
  [CMD.cancelTestPlan]: { run: () => () => cancelTestPlan() },
  [CMD.timings]: { run: () => timings },
};

/** The message a command refused in Restricted Mode shows (and returns as `{ refused }`). */
export function restrictedMessage(why: string): string {
  return `${why}, so it is off in Restricted Mode. Detection, evidence, patch checks, reports and the simulation still work. Trust this workspace to enable it.`;
}

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, spec]) => {
    const handler = spec.run(ctx);
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      if (spec.needs?.trust && !vscode.workspace.isTrusted) {
        const refused = restrictedMessage(spec.needs.trust);
        ctx.log.info(`${id} refused: Restricted Mode`);
        const manage = 'Manage Workspace Trust';
        void vscode.window
          .showWarningMessage(refused, manage)
          .then((c) => c === manage && vscode.commands.executeCommand('workbench.trust.manage'));
        return { refused };
      }
      try {
        return await handler(...args);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        ctx.log.error(`${id}: ${err instanceof Error ? (err.stack ?? msg) : msg}`);
        void vscode.window.showErrorMessage(`Conntrack Backport: ${msg}`);
        return undefined;
      }
    });
  });
}

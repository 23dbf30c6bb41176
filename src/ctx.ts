// What every command and surface shares: the log, detection, the kernel trees of the
// workspace, and the plain answers to "is there a tree?" and "may we run git mutations?".

import * as path from 'node:path';
import * as vscode from 'vscode';
import { CORE_REL_PATH } from './core/detect/input';
import { readConfig, ExtensionConfig } from './config';
import { DetectionService, isCoreDocument } from './detection/service';
import { CONTEXT_KERNEL_TREE, CORE_FILE_NAME } from './ids';
import { ReportView } from './detection/reportView';
import { createSimulation, type Simulation } from './simulation/commands';

export interface KernelTree {
  /** The folder handed to detectPath: the tree root, or the folder holding the file. */
  root: vscode.Uri;
  coreFile: vscode.Uri;
}

export class Ctx {
  kernelTrees: KernelTree[] = [];

  constructor(
    readonly ext: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly detection: DetectionService,
    readonly reports: ReportView,
  ) {}

  private sim?: Simulation;
  /** The simulation panel's handlers, made on first use; its detection honours trust. */
  get simulation(): Simulation {
    this.sim ??= createSimulation(this.ext, async (uri) => {
      const tree = await this.pickTree(uri);
      if (!tree) return undefined;
      const file = tree.coreFile.fsPath;
      return (
        this.detection.treeResult(file) ??
        (this.mayReadGit ? this.detection.detectTree(tree.root.fsPath, { history: true }) : this.detection.detectQuick(file))
      );
    });
    return this.sim;
  }

  config(scope?: vscode.Uri): ExtensionConfig {
    return readConfig(scope);
  }

  /**
   * One stat per workspace folder (never a search: a kernel checkout has ~80,000 files).
   * Accepts a folder that is the tree root or net/netfilter itself.
   */
  async refreshKernelTrees(): Promise<KernelTree[]> {
    const found: KernelTree[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      for (const rel of [CORE_REL_PATH, CORE_FILE_NAME]) {
        const coreFile = vscode.Uri.joinPath(folder.uri, rel);
        try {
          await vscode.workspace.fs.stat(coreFile);
          found.push({ root: folder.uri, coreFile });
          break;
        } catch {
          // not here
        }
      }
    }
    this.kernelTrees = found;
    await vscode.commands.executeCommand('setContext', CONTEXT_KERNEL_TREE, found.length > 0);
    return found;
  }

  /**
   * The tree a command acts on: the one holding the active nf_conntrack_core.c, else the only
   * tree, else the user's pick. Says plainly when there is none.
   */
  async pickTree(hint?: vscode.Uri): Promise<KernelTree | undefined> {
    const doc = hint ? undefined : vscode.window.activeTextEditor?.document;
    const file = hint ?? (doc && isCoreDocument(doc) ? doc.uri : undefined);
    if (file) {
      const known = this.kernelTrees.find((t) => t.coreFile.fsPath === file.fsPath || file.fsPath.startsWith(t.root.fsPath + path.sep));
      if (known && (known.coreFile.fsPath === file.fsPath || path.basename(file.fsPath) !== CORE_FILE_NAME)) return known;
      if (path.basename(file.fsPath) === CORE_FILE_NAME) {
        // A loose copy or a tree outside the workspace root: use the tree it sits in, if any.
        const fsPath = file.fsPath;
        const suffix = path.sep + CORE_REL_PATH.split('/').join(path.sep);
        const root = fsPath.endsWith(suffix) ? vscode.Uri.file(fsPath.slice(0, -suffix.length)) : vscode.Uri.file(path.dirname(fsPath));
        return { root, coreFile: file };
      }
    }
    if (!this.kernelTrees.length) await this.refreshKernelTrees();
    if (this.kernelTrees.length === 1) return this.kernelTrees[0];
    if (this.kernelTrees.length > 1) {
      const pick = await vscode.window.showQuickPick(
        this.kernelTrees.map((t) => ({ label: vscode.workspace.asRelativePath(t.root), description: t.root.fsPath, tree: t })),
        { placeHolder: 'Which kernel tree?' },
      );
      return pick?.tree;
    }
    void this.noKernelTree();
    return undefined;
  }

  async noKernelTree(): Promise<void> {
    const open = 'Open Folder…';
    const choice = await vscode.window.showWarningMessage(
      `No Linux kernel tree is open: open a folder that contains ${CORE_REL_PATH}, or open an ${CORE_FILE_NAME} file in an editor.`,
      open,
    );
    if (choice === open) await vscode.commands.executeCommand('workbench.action.files.openFolder');
  }

  /** Git read commands run only in trusted workspaces (a repository's config can run programs). */
  get mayReadGit(): boolean {
    return vscode.workspace.isTrusted;
  }

  /**
   * Guard for anything that changes the repository (revert, cherry-pick, fetch). Returns true
   * when allowed; otherwise explains Restricted Mode and offers to manage trust.
   */
  async requireTrust(action: string): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    const manage = 'Manage Workspace Trust';
    const choice = await vscode.window.showWarningMessage(
      `${action} runs git commands that change the repository, so it is disabled in Restricted Mode. Detection and evidence still work. Trust this workspace to enable it.`,
      manage,
    );
    if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  }
}

// The simulation panel (src/simulation) joined to the one command table: the panel gets the
// detection of the tree the lens or editor points at, with git history when trusted.
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { createSimulation, ImportStatsArgs, OpenSimulationArgs, Simulation } from './simulation/commands';

const sims = new WeakMap<Ctx, Simulation>();

function simulation(ctx: Ctx): Simulation {
  let s = sims.get(ctx);
  if (!s) {
    s = createSimulation(ctx.ext, async (uri) => {
      const tree = await ctx.pickTree(uri);
      if (!tree) return undefined;
      const file = tree.coreFile.fsPath;
      return ctx.detection.treeResult(file) ?? (ctx.mayReadGit ? ctx.detection.detectTree(tree.root.fsPath, { history: true }) : ctx.detection.detectQuick(file));
    });
    sims.set(ctx, s);
  }
  return s;
}

export function openSimulation(ctx: Ctx): (args?: OpenSimulationArgs | vscode.Uri) => void {
  return (args) => simulation(ctx).open(args instanceof vscode.Uri ? { uri: args } : args);
}

export function importStats(ctx: Ctx): (args?: ImportStatsArgs) => Promise<unknown> {
  return (args) => simulation(ctx).importStats(args);
}

/** The panel serializer, so a panel left open comes back after a reload. */
export function registerSimulation(ctx: Ctx): vscode.Disposable[] {
  return simulation(ctx).disposables;
}

// The last test plan run per tree, kept in the workspace state: the cover letter's [Test Plan]
// (src/backport/commands.ts) and a reopened simulation panel read it from here.

import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { TestPlanResult } from '../core/testplan';

const KEY = 'conntrackBackport.testPlan.last';

type Saved = Record<string, TestPlanResult>;

const norm = (p: string) => path.resolve(p);

export async function rememberTestPlan(ext: vscode.ExtensionContext, r: TestPlanResult): Promise<void> {
  const all = ext.workspaceState.get<Saved>(KEY) ?? {};
  all[norm(r.tree)] = r;
  await ext.workspaceState.update(KEY, all);
}

/** The last run on `tree` (a git tree root or source directory), if any. */
export function lastTestPlan(ext: vscode.ExtensionContext, tree: string): TestPlanResult | undefined {
  return (ext.workspaceState.get<Saved>(KEY) ?? {})[norm(tree)];
}

/** The most recent run on any tree (the panel shows it when it opens). */
export function latestTestPlan(ext: vscode.ExtensionContext): TestPlanResult | undefined {
  const all = Object.values(ext.workspaceState.get<Saved>(KEY) ?? {});
  return all.sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''))[0];
}

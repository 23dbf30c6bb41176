// Placeholder until the backport module (branch `backport`) lands: the lead replaces this
// file. Contract: planBackport(ctx) returns the handler of conntrackBackport.planBackport,
// called with an optional nf_conntrack_core.c (Uri or its string form, as lenses pass it).
// Applying a plan must go through ctx.requireTrust(...) first; planning may run untrusted.
import * as vscode from 'vscode';
import type { Ctx } from './ctx';

export function planBackport(ctx: Ctx): (target?: vscode.Uri | string) => Promise<void> {
  return async (target) => {
    const tree = await ctx.pickTree(typeof target === 'string' ? vscode.Uri.parse(target) : target);
    if (!tree) return;
    const restricted = vscode.workspace.isTrusted ? '' : ' Applying a plan will also need a trusted workspace (Restricted Mode is on).';
    ctx.log.warn('planBackport: the backport module is not in this build');
    void vscode.window.showInformationMessage(
      `Plan revert-then-cherry-pick needs the backport module, which is not part of this build yet. Detection, evidence and reports work now.${restricted}`,
    );
  };
}

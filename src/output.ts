import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** The "Conntrack Backport" log (one per window); level and timestamps come from VS Code's log channel. */
export function createLog(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Conntrack Backport', { log: true });
  return channel;
}

/** One line per run (detection, simulation, sweep, backport) with how long it took. */
export function logRun(what: string, startedMs: number, outcome: string): void {
  createLog().info(`${what}: ${outcome} in ${(performance.now() - startedMs).toFixed(0)} ms`);
}

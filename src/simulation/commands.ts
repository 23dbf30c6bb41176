// The simulation's entry points: the handlers of the two commands (registered by the one
// command table, src/commands.ts, through Ctx.simulation) and the serializer that restores the panel.

import * as vscode from 'vscode';
import { ConntrackStatsError } from '../core/conntrackStats';
import type { DetectionResult } from '../core/types';
import { importStatsText, unjoinRows } from './evidence';
import { SimulationPanel, type PanelHost } from './panel';
import { registerRestore } from '../webview/controller';
import { SIMULATION_VIEW_TYPE, type ImportedStatsView, type TestPlanView } from './protocol';
import { summarizeDetection } from './shape';

/** From a code lens: the file whose variant configures the model (other fields are ignored). */
export interface OpenSimulationArgs {
  uri?: string | vscode.Uri;
  race?: string;
  scenario?: string;
  /** A lens on a fixed race: the model variant of the tree without that fix (the "before" column). */
  before?: string;
}

/** Text given directly (tests, other commands), or where to read it from. */
export type ImportStatsArgs = string | { text: string; source?: string } | { from: 'clipboard' | 'file' | 'input' | 'editor' };

export interface Simulation {
  /** Handler of conntrackBackport.openSimulation (a lens may pass { uri }). */
  open(args?: OpenSimulationArgs): void;
  /** Handler of conntrackBackport.importStats; resolves to what the panel shows. */
  importStats(args?: ImportStatsArgs): Promise<ImportedStatsView | undefined>;
  /** The test plan's result beside the model (opens the panel when closed). */
  showTestPlan(view: TestPlanView | undefined): void;
  /** The test plan card's status line (stage while it runs); only when the panel is open. */
  showTestPlanStatus(text: string, running: boolean): void;
  /** The panel serializer (restores the panel after a window reload). */
  disposables: vscode.Disposable[];
}

/** The handlers without registering the commands, for an extension that owns one command table. */
export function createSimulation(
  context: vscode.ExtensionContext,
  getDetection: (uri?: vscode.Uri) => Promise<DetectionResult | undefined>,
): Simulation {
  const host: PanelHost = { getDetection };
  return {
    open: (args) => {
      SimulationPanel.createOrShow(
        context,
        host,
        toUri(args?.uri),
        typeof args?.scenario === 'string' ? args.scenario : undefined,
        typeof args?.before === 'string' ? args.before : undefined,
      );
    },
    importStats: (args) => importStats(context, host, args),
    showTestPlan: (view) => SimulationPanel.createOrShow(context, host).showTestPlan(view),
    showTestPlanStatus: (text, running) => SimulationPanel.current?.showTestPlanStatus(text, running),
    disposables: [
      // The page restores its own form and result (getState); the host needs nothing from it.
      registerRestore(
        SIMULATION_VIEW_TYPE,
        () => undefined,
        (panel) => {
          SimulationPanel.revive(panel, context, host);
        },
      ),
    ],
  };
}

function toUri(u: string | vscode.Uri | undefined): vscode.Uri | undefined {
  if (!u) return undefined;
  if (typeof u !== 'string') return u instanceof vscode.Uri ? u : undefined;
  return u.includes('://') ? vscode.Uri.parse(u) : vscode.Uri.file(u);
}

async function readStats(args: ImportStatsArgs | undefined): Promise<{ text: string; source: string } | undefined> {
  if (typeof args === 'string') return { text: args, source: 'argument' };
  if (args && 'text' in args && typeof args.text === 'string') return { text: args.text, source: args.source ?? 'argument' };
  let from = args && 'from' in args ? args.from : undefined;
  if (!from) {
    const editor = vscode.window.activeTextEditor;
    const picks: (vscode.QuickPickItem & { from: 'clipboard' | 'file' | 'input' | 'editor' })[] = [
      { label: '$(clippy) From the clipboard', from: 'clipboard' },
      { label: '$(file) From a file…', description: 'a saved conntrack -S or /proc/net/stat/nf_conntrack', from: 'file' },
      { label: '$(edit) Paste into an input box', from: 'input' },
    ];
    if (editor)
      picks.push({
        label: '$(go-to-file) From the active editor',
        description: editor.selection.isEmpty ? 'whole document' : 'selection',
        from: 'editor',
      });
    from = (await vscode.window.showQuickPick(picks, { title: 'Import conntrack -S output' }))?.from;
  }
  switch (from) {
    case 'clipboard':
      return { text: await vscode.env.clipboard.readText(), source: 'clipboard' };
    case 'input': {
      const t = await vscode.window.showInputBox({
        title: 'Import conntrack -S output',
        prompt: 'Paste the rows of `conntrack -S` (cpu=0 found=… cpu=1 …)',
        ignoreFocusOut: true,
      });
      return t === undefined ? undefined : { text: unjoinRows(t), source: 'input box' };
    }
    case 'file': {
      const [uri] =
        (await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Import',
          title: 'conntrack -S output or /proc/net/stat/nf_conntrack',
        })) ?? [];
      if (!uri) return undefined;
      return { text: new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), source: vscode.workspace.asRelativePath(uri) };
    }
    case 'editor': {
      const ed = vscode.window.activeTextEditor;
      if (!ed) return undefined;
      return {
        text: ed.document.getText(ed.selection.isEmpty ? undefined : ed.selection),
        source: vscode.workspace.asRelativePath(ed.document.uri),
      };
    }
    default:
      return undefined;
  }
}

/** Parses, predicts for the detected variant, shows both in the panel; returns the view (tests use it). */
async function importStats(
  context: vscode.ExtensionContext,
  host: PanelHost,
  args?: ImportStatsArgs,
): Promise<ImportedStatsView | undefined> {
  const input = await readStats(args);
  if (!input) return undefined;
  const panel = SimulationPanel.createOrShow(context, host);
  const detection = summarizeDetection(await panel.detectionResult);
  let view: ImportedStatsView;
  try {
    view = importStatsText(input.text, input.source, { variant: detection?.variant, scenario: panel.scenario });
  } catch (err) {
    if (err instanceof ConntrackStatsError) {
      void vscode.window.showErrorMessage(`Import conntrack -S output: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  panel.showStats(view);
  return view;
}

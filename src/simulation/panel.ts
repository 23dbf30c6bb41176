// Host side of the simulation panel: one webview panel at a time, owning its disposables. The
// page posts typed requests (protocol.ts); everything it sends is validated here before the
// model runs, and the model runs here (run.ts), in chunks so progress and cancel work.

import { logRun } from '../output';
import * as vscode from 'vscode';
import { newNonce, webviewPage } from '../webview/shell';
import { WebviewController } from '../webview/controller';
import type { DetectionResult } from '../core/types';
import {
  SIMULATION_VIEW_TYPE,
  type HostToPage,
  type ImportedStatsView,
  type PageToHost,
  type SavedState,
  type SourceLink,
  type TestPlanView,
} from './protocol';
import { droppingScenario, withoutFixRequest } from './defaultScenario';
import { RANGES, defaultRequest, scenarioSummaries, summarizeDetection, validateRunRequest, variantSummaries } from './shape';
import { RunCancelled } from './run';
import { startRun, type RunHandle } from './runner';
import { IDENTIFIER, resolveSources } from './sources';

export interface PanelHost {
  getDetection(uri?: vscode.Uri): Promise<DetectionResult | undefined>;
}

/** Kept across panel lifetimes, so a panel closed and opened again comes back as it was. */
const STATE_KEY = 'conntrackBackport.simulation.state';
/** Progress posts at most this often: a post per 10k-trial chunk would flood the page. */
const PROGRESS_EVERY_MS = 100;

export class SimulationPanel {
  static current: SimulationPanel | undefined;

  private readonly page: WebviewController<HostToPage, PageToHost>;
  private detection: DetectionResult | undefined;
  private detectionLoaded: Promise<void> | undefined;
  private run: { id: number; handle: RunHandle } | undefined;
  private sources: Record<string, SourceLink> = {};
  /** Re-sent when the page loads again (a hidden or reloaded webview loses what it showed). */
  private lastStats: ImportedStatsView | undefined;
  /** The last test plan run (and its status line), re-sent like the stats. */
  private lastTestPlan: TestPlanView | undefined;
  private testPlanStatus: { text: string; running: boolean } | undefined;

  /** `scenario` (a lens's race): open on that preset, replacing an open panel's page. */
  static createOrShow(
    context: vscode.ExtensionContext,
    host: PanelHost,
    uri?: vscode.Uri,
    scenario?: string,
    before?: string,
  ): SimulationPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    if (scenario && SimulationPanel.current) SimulationPanel.current.dispose();
    if (SimulationPanel.current) {
      // Keep its column: moving a webview to another group reloads its page.
      SimulationPanel.current.panel.reveal(undefined);
      if (uri) SimulationPanel.current.refreshDetection(uri);
      return SimulationPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      SIMULATION_VIEW_TYPE,
      'Conntrack Simulation',
      column,
      webviewOptions(context.extensionUri),
    );
    SimulationPanel.current = new SimulationPanel(panel, context, host, uri);
    SimulationPanel.current.requestedScenario = scenario;
    SimulationPanel.current.requestedBefore = before;
    return SimulationPanel.current;
  }

  /** From the serializer: the page's own getState() restores the form and the last result. */
  static revive(panel: vscode.WebviewPanel, context: vscode.ExtensionContext, host: PanelHost): SimulationPanel {
    panel.webview.options = webviewOptions(context.extensionUri);
    SimulationPanel.current?.dispose();
    SimulationPanel.current = new SimulationPanel(panel, context, host);
    return SimulationPanel.current;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly host: PanelHost,
    uri?: vscode.Uri,
  ) {
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'panel-icon.svg');
    this.refreshDetection(uri);
    this.page = new WebviewController<HostToPage, PageToHost>(panel, pageHtml(panel.webview, context.extensionUri), {
      // Each handler checks its own fields (shape.ts validates run requests).
      parse: (raw) => (raw && typeof raw === 'object' && typeof (raw as PageToHost).type === 'string' ? (raw as PageToHost) : null),
      onReady: (reload) => this.onReady(reload),
      onMessage: (m) => this.onMessage(m),
      onError: (err) => this.post({ type: 'error', message: String((err as Error)?.message ?? err) }),
      onDispose: () => {
        if (SimulationPanel.current === this) SimulationPanel.current = undefined;
        this.run?.handle.cancel();
      },
      latestOnly: ['progress', 'testplan-status'],
    });
  }

  dispose(): void {
    this.page.dispose();
  }

  get detectionResult(): Promise<DetectionResult | undefined> {
    return (this.detectionLoaded ?? Promise.resolve()).then(() => this.detection);
  }

  /** Asked for by the command (a race's lens): the page starts on it instead of the saved run. */
  private requestedScenario: string | undefined;
  /** A lens on a fixed race: compare the tree without that fix (see withoutFixRequest). */
  private requestedBefore: string | undefined;

  /** The last request's scenario, for the evidence import's prediction. */
  get scenario(): string | undefined {
    return this.context.workspaceState.get<SavedState>(STATE_KEY)?.request?.scenario;
  }

  showStats(stats: ImportedStatsView): void {
    this.lastStats = stats;
    this.post({ type: 'stats', stats });
  }

  showTestPlan(view: TestPlanView | undefined): void {
    this.lastTestPlan = view;
    this.post({ type: 'testplan', view });
  }

  showTestPlanStatus(text: string, running: boolean): void {
    this.testPlanStatus = { text, running };
    this.post({ type: 'testplan-status', text, running });
  }

  private refreshDetection(uri?: vscode.Uri): void {
    this.detectionLoaded = this.host
      .getDetection(uri)
      .then(
        (d) => {
          this.detection = d;
        },
        (err) => {
          this.detection = undefined;
          void vscode.window.showWarningMessage(`Conntrack simulation: detection failed: ${err?.message ?? err}`);
        },
      )
      .then(() => {
        if (this.page?.ready) this.post({ type: 'detection', detection: summarizeDetection(this.detection) });
      });
  }

  /** Through the controller: messages wait until the page said ready. */
  private post(msg: HostToPage): void {
    this.page.post(msg);
  }

  /** The page (re)loaded: it starts from `init`; a reloaded one gets the imported stats again. */
  private async onReady(reload: boolean): Promise<HostToPage[]> {
    await this.detectionResult;
    const detection = summarizeDetection(this.detection);
    const init: HostToPage = {
      type: 'init',
      init: {
        scenarios: scenarioSummaries(),
        variants: variantSummaries(),
        ranges: RANGES,
        detection,
        defaults: withoutFixRequest(
          defaultRequest(this.requestedScenario ?? this.scenario ?? droppingScenario(detection?.variant), detection),
          detection,
          this.requestedBefore,
        ),
        saved: this.requestedScenario ? undefined : this.context.workspaceState.get<SavedState>(STATE_KEY),
      },
    };
    const out: HostToPage[] = reload && this.lastStats ? [init, { type: 'stats', stats: this.lastStats }] : [init];
    if (this.lastTestPlan) out.push({ type: 'testplan', view: this.lastTestPlan });
    if (this.testPlanStatus) out.push({ type: 'testplan-status', ...this.testPlanStatus });
    return out;
  }

  private async onMessage(m: PageToHost): Promise<void> {
    switch (m?.type) {
      case 'run':
        return this.startRun(m.runId, m.request);
      case 'cancel':
        if (this.run && this.run.id === m.runId) this.run.handle.cancel();
        return;
      case 'open-source-location':
        return this.openSource(m.fn);
      case 'import-stats':
        if (m.from === 'clipboard' || m.from === 'file' || m.from === 'input')
          await vscode.commands.executeCommand('conntrackBackport.importStats', { from: m.from });
        return;
      case 'run-testplan':
        await vscode.commands.executeCommand('conntrackBackport.runTestPlan');
        return;
      case 'cancel-testplan':
        await vscode.commands.executeCommand('conntrackBackport.internal.cancelTestPlan');
        return;
      case 'state-changed':
        // Only what the page itself would restore; the page is not trusted to write anything else.
        if (m.state && typeof m.state === 'object')
          await this.context.workspaceState.update(STATE_KEY, { request: m.state.request, result: m.state.result, stats: m.state.stats });
        return;
      default:
        return;
    }
  }

  private async startRun(runId: unknown, raw: unknown): Promise<void> {
    if (typeof runId !== 'number' || !Number.isSafeInteger(runId)) return;
    const detection = summarizeDetection(await this.detectionResult);
    const v = validateRunRequest(raw, !!detection);
    if (!v.ok) {
      this.post({ type: 'error', runId, message: v.errors.join('; ') });
      return;
    }
    this.run?.handle.cancel();
    let last = 0;
    let cancelled = false;
    const handle = startRun(runId, v.value, detection, {
      workerPath: vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'simWorker.js').fsPath,
      onProgress: (done, total, phase) => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS && done < total) return;
        last = now;
        this.post({ type: 'progress', runId, done, total, phase });
      },
    });
    const run = {
      id: runId,
      handle: {
        ...handle,
        cancel: () => {
          cancelled = true;
          handle.cancel();
        },
      },
    };
    this.run = run;
    const t0 = performance.now();
    const what = `simulation ${v.value.scenario}`;
    try {
      const partial = await handle.result;
      logRun(what, t0, `${partial.columns.length} variants`);
      const symbols = partial.columns.flatMap((c) => c.exhaustive.traces.flatMap((t) => t.events.map((e) => e.symbol ?? '')));
      this.sources = await resolveSources(symbols, this.detection).catch(() => ({}));
      if (!cancelled) this.post({ type: 'result', result: { ...partial, sources: this.sources } });
    } catch (err) {
      logRun(what, t0, err instanceof RunCancelled ? 'cancelled' : `failed: ${(err as Error)?.message ?? err}`);
      if (err instanceof RunCancelled) this.post({ type: 'cancelled', runId });
      else this.post({ type: 'error', runId, message: String((err as Error)?.message ?? err) });
    } finally {
      if (this.run === run) this.run = undefined;
    }
  }

  /** Only functions the host itself resolved for the last result can be opened. */
  private async openSource(fn: unknown): Promise<void> {
    if (typeof fn !== 'string' || !IDENTIFIER.test(fn)) return;
    const link = this.sources[fn];
    if (!link) {
      void vscode.window.showInformationMessage(`${fn}: not found in the analysed tree`);
      return;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(link.file));
    const pos = new vscode.Position(Math.max(0, link.line - 1), 0);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos) });
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist')],
  };
}

function pageHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return webviewPage({
    title: 'Conntrack Simulation',
    cspSource: webview.cspSource,
    nonce: newNonce(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css')).toString(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'panel.js')).toString(),
    body: '<div id="app"><p class="muted">Loading the simulation…</p></div>',
    dataImages: true,
  });
}

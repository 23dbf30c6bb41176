// Placeholder until the conntrack model and its panel (branch `model`) land: the lead
// replaces this file. Contract: openSimulation(ctx) returns the handler of
// conntrackBackport.openSimulation, called with an optional { race, uri } from a lens or a
// vscode.Uri (the resource) from the editor's context menu;
// registerSimulation(ctx) returns the disposables of the panel serializer for the
// onWebviewPanel:conntrackBackport.simulation activation event.
import * as vscode from 'vscode';
import type { RaceId } from './core/types';
import type { Ctx } from './ctx';
import { SIMULATION_VIEW_TYPE } from './ids';

export interface SimulationArgs {
  race?: RaceId;
  /** The nf_conntrack_core.c whose detected variant configures the model. */
  uri?: string;
}

export function openSimulation(ctx: Ctx): (args?: SimulationArgs | vscode.Uri) => Promise<void> {
  return async () => {
    ctx.log.warn('openSimulation: the model module is not in this build');
    void vscode.window.showInformationMessage('The simulation panel needs the conntrack model module, which is not part of this build yet.');
  };
}

export function registerSimulation(_ctx: Ctx): vscode.Disposable[] {
  // Nothing to restore without the model: close panels a previous build left open.
  return [vscode.window.registerWebviewPanelSerializer(SIMULATION_VIEW_TYPE, { deserializeWebviewPanel: async (panel) => panel.dispose() })];
}

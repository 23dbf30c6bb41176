// Identifiers shared by package.json, the adapters and the tests. No vscode import: the
// presentation helpers and node unit tests use them too.

export const CMD = {
  detect: 'conntrackBackport.detect',
  showEvidence: 'conntrackBackport.showEvidence',
  checkPatch: 'conntrackBackport.checkPatch',
  planBackport: 'conntrackBackport.planBackport',
  openSimulation: 'conntrackBackport.openSimulation',
  exportReport: 'conntrackBackport.exportReport',
  showMatrix: 'conntrackBackport.showMatrix',
  importStats: 'conntrackBackport.importStats',
  runTestPlan: 'conntrackBackport.runTestPlan',
  cancelTestPlan: 'conntrackBackport.internal.cancelTestPlan',
  timings: 'conntrackBackport.internal.timings',
} as const;

export const SIMULATION_VIEW_TYPE = 'conntrackBackport.simulation';
export const CONTEXT_KERNEL_TREE = 'conntrackBackport.kernelTree';
export const CONFIG_SECTION = 'conntrackBackport';
export const DIAGNOSTIC_SOURCE = 'conntrack-backport';
export const CORE_FILE_NAME = 'nf_conntrack_core.c';

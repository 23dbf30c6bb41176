// What the extension wires: the commands + serializer, and a stand-alone detection source.
export { registerSimulation, createSimulation, OPEN_SIMULATION, IMPORT_STATS } from './commands';
export type { ImportStatsArgs, OpenSimulationArgs, Simulation } from './commands';
export { workspaceDetection } from './detection';
export { SIMULATION_VIEW_TYPE } from './protocol';

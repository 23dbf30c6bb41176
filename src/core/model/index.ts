// Public surface of the conntrack model for the CLI, the panel and tests.
export { MODEL_VARIANTS, MODEL_VARIANT_IDS, modelVariantFromDetection, variantInfo, isModelVariantId } from './variants';
export type { ModelVariantId, VariantInfo, VariantMapping, VariantBehaviour } from './variants';
export { SCENARIOS, SCENARIO_NAMES, getScenario, buildScenario } from './scenarios';
export type { ScenarioKnobs, ScenarioPreset, ResolverMode, BuiltScenario } from './scenarios';
export { exploreScenario, exploreBuilt } from './exhaustive';
export type { ExhaustiveResult, ExhaustiveOptions, ScheduleTrace } from './exhaustive';
export { monteCarloScenario, monteCarloBuilt } from './montecarlo';
export type { McResult, McOptions, LatencySummary } from './montecarlo';
export { runOverflow } from './overflow';
export type { OverflowResult, OverflowOptions } from './overflow';
export { runSimulateCommand } from './cli';
export type { SimulateArgs, SimulateOutput } from './cli';
export { COUNTER_NAMES } from './state';
export type { CounterName, WhatIf, PortMode } from './state';
export type { TraceEvent } from './steps';
export { KNOB_SPECS, parseKnobSettings, knobHelp } from './knobs';
export type { ParsedKnobs, TableKnobs } from './knobs';

// `import { main } from './cli'`: the CLI's entry point (dist/cli.js is bundled from main.ts).
export { COMMANDS, main, usage, version } from './main';
export { EXIT, InputError, UsageError } from './command';
export type { Command, OptionSpec, Parsed } from './command';

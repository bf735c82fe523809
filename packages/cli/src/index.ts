// @unlearn/cli — the `unlearn` command, a thin flag parser over @unlearn/pipeline (which holds the pipeline API).
export { main, buildProgram, resolveConfig } from './cli.js';
export type { CliIO } from './cli.js';
export { configFlags, addConfigFlags, flagOverrides, parseFlagValue } from './config/flags.js';
export type { FlagSpec } from './config/flags.js';
export { progressPrinter } from './run/progress.js';
export { screenshotHtml, findChromium, dumpDom } from './report/screenshot.js';

// What every pipeline run does around its work: validate the config (the command's defaults under it), create the run
// folder (config.yaml), open log.jsonl, start the backend; afterwards write summary.json and the report, and emit `done`.
import '@unlearn/objectives';
import '@unlearn/optim';
import '@unlearn/attribution';
import { initBackend, type BackendReport } from '@unlearn/tensors';
import { mergeConfig, validateRunConfig } from '../config/load.js';
import type { RunConfig, RunConfigInput } from '../config/schema.js';
import { writeReport, type RunSummary } from '../report/report.js';
import { RunLog, type RunEventListener } from './run-log.js';
import { createRunFolder, writeJson, type RunFolder } from './run-folder.js';

export type RunCommand = 'finetune' | 'unlearn' | 'eval' | 'attack';

/** Options of every pipeline call. */
export interface RunOptions {
  /** Receives every event of the run (the objects log.jsonl holds), as it happens. */
  onEvent?: RunEventListener;
}

/** What a finished run returns: its summary (also summary.json), where everything is, and the report files. */
export interface RunResult {
  summary: RunSummary;
  folder: RunFolder;
  report: { markdown: string; html: string };
}

export interface RunContext {
  command: RunCommand;
  config: RunConfig;
  folder: RunFolder;
  log: RunLog;
  backend: BackendReport;
}

/** `defaults` under `config`, validated by the run-config schema (the CLI's): one line per problem. */
export function resolveRunConfig(config: RunConfigInput | RunConfig, defaults: RunConfigInput = {}): RunConfig {
  return validateRunConfig(mergeConfig(defaults as Record<string, unknown>, config as Record<string, unknown>), 'config');
}

/** Runs `body` inside a run folder: the shared start and finish of finetune / unlearn / evaluate. */
export async function inRunFolder(
  command: RunCommand, config: RunConfig, options: RunOptions, body: (ctx: RunContext) => Promise<RunSummary>,
): Promise<RunResult> {
  const folder = await createRunFolder(command, config);
  const log = new RunLog({ file: folder.log, onEvent: options.onEvent });
  log.event('start', { command, config });
  const backend = await initBackend(config.backend);
  log.event('backend', { ...backend });
  log.info(`unlearn ${command}: ${folder.dir} (backend ${backend.backend}: ${backend.reason})`);
  const summary = await body({ command, config, folder, log, backend });
  await writeJson(folder.summary, summary);
  const report = await writeReport(folder.dir, { title: `unlearn ${command}: ${folder.name}`, runs: [summary], createdAt: new Date().toISOString() });
  log.event('done', { summary: { ...summary, losses: undefined }, report: report.html });
  return { summary, folder, report };
}

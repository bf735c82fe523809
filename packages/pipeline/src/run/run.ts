// What every pipeline run does around its work: validate the config (the command's defaults under it), create the run
// folder (config.yaml), open log.jsonl, start the backend; afterwards write summary.json and the report, and emit `done`.
import '@unlearn/objectives';
import '@unlearn/optim';
import '@unlearn/attribution';
import { writeFileSync } from 'node:fs';
import { initBackend, type BackendReport } from '@unlearn/tensors';
import { mergeConfig, validateRunConfig } from '../config/load.js';
import type { RunConfig, RunConfigInput } from '../config/schema.js';
import { writeReport, type RunSummary } from '../report/report.js';
import { RunLog, type RunEventListener } from './run-log.js';
import { createRunFolder, writeJson, type RunFolder } from './run-folder.js';
import { preflight, type PreflightResult } from './preflight.js';

export type RunCommand = 'finetune' | 'unlearn' | 'eval' | 'attack';

/** Options of every pipeline call. */
export interface RunOptions {
  /** Receives every event of the run (the objects log.jsonl holds), as it happens. */
  onEvent?: RunEventListener;
  /** Continue the run folder's run from its newest good checkpoint (its config must match). */
  resume?: boolean;
  /** Empty an existing run folder of this name and start again. */
  overwrite?: boolean;
  /**
   * Record SIGINT / SIGTERM as an `interrupted` event and summary, release the folder's lock, and exit (130 / 143).
   * For command-line tools; a library caller handles its own signals.
   */
  handleSignals?: boolean;
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
  /** True when this run continues an earlier one (`resume`); the Trainer then restores its newest good checkpoint. */
  resumed: boolean;
  /** What the checks before any work learned (the model's config, its positions). */
  preflight: PreflightResult;
}

/** `defaults` under `config`, validated by the run-config schema (the CLI's): one line per problem. */
export function resolveRunConfig(config: RunConfigInput | RunConfig, defaults: RunConfigInput = {}): RunConfig {
  return validateRunConfig(mergeConfig(defaults as Record<string, unknown>, config as Record<string, unknown>), 'config');
}

/** Runs `body` inside a run folder: the shared start and finish of finetune / unlearn / evaluate. */
export async function inRunFolder(
  command: RunCommand, config: RunConfig, options: RunOptions, body: (ctx: RunContext) => Promise<RunSummary>,
): Promise<RunResult> {
  // every check that needs no training first: a bad path or size fails here, and nothing is created
  const backend = await initBackend(config.backend);
  const checked = preflight(command, config, backend.backend);
  const { folder, lock, resumed } = await createRunFolder(command, config, options);
  const log = new RunLog({ file: folder.log, onEvent: options.onEvent });
  const failed = (what: Partial<RunSummary>) => {
    // synchronous: it also runs from a signal handler
    writeFileSync(folder.summary, `${JSON.stringify({ name: folder.name, method: command, metrics: {}, ...what }, null, 2)}\n`);
  };
  const signals: [NodeJS.Signals, () => void][] = options.handleSignals
    ? (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, () => {
      log.event('interrupted', { signal });
      failed({ interrupted: signal });
      lock.release();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }])
    : [];
  for (const [signal, handler] of signals) process.once(signal, handler);
  try {
    if (lock.tookOverFrom !== undefined) log.event('warning', { message: `${lock.file}: took over the lock of process ${lock.tookOverFrom}, which is no longer running` });
    log.event('start', { command, config, resumed });
    log.event('backend', { ...backend });
    log.info(`unlearn ${command}: ${folder.dir} (backend ${backend.backend}: ${backend.reason})${resumed ? ' — resuming' : ''}`);
    const summary = await body({ command, config, folder, log, backend, resumed, preflight: checked });
    if (summary.stopped) log.event('stopped', { ...summary.stopped });
    await writeJson(folder.summary, summary);
    const report = await writeReport(folder.dir, { title: `unlearn ${command}: ${folder.name}`, runs: [summary], createdAt: new Date().toISOString() });
    log.event('done', { summary: { ...summary, losses: undefined }, report: report.html });
    return { summary, folder, report };
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    log.event('error', { message });
    failed({ error: message });
    throw e;
  } finally {
    for (const [signal, handler] of signals) process.removeListener(signal, handler);
    lock.release();
  }
}

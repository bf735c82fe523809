// What every run command does first: resolve the config (file + flags over the command's defaults), create the run
// folder, open the log, register the built-in methods and start the backend.
import '@unlearn/objectives';
import '@unlearn/optim';
import '@unlearn/attribution';
import { initBackend, type BackendReport } from '@unlearn/tensors';
import type { Command } from 'commander';
import { flagOverrides } from '../config/flags.js';
import { loadRunConfig } from '../config/load.js';
import type { RunConfig, RunConfigInput } from '../config/schema.js';
import { RunLog } from '../run/log.js';
import { createRunFolder, type RunFolder } from '../run/run-folder.js';

export interface RunContext {
  command: string;
  config: RunConfig;
  folder: RunFolder;
  log: RunLog;
  backend: BackendReport;
}

/** Resolves the config of a command: its defaults, then the --config file, then flags. */
export async function resolveConfig(opts: Record<string, unknown>, defaults: RunConfigInput = {}): Promise<RunConfig> {
  const { overrides, flagByKey } = flagOverrides(opts);
  return loadRunConfig(opts.config as string | undefined, overrides, flagByKey, defaults as Record<string, unknown>);
}

export async function startRun(command: string, config: RunConfig, stream?: NodeJS.WritableStream): Promise<RunContext> {
  const folder = await createRunFolder(command, config);
  const log = new RunLog({ file: folder.log, quiet: config.log.quiet, stream });
  log.event('start', { command, config });
  const backend = await initBackend(config.backend);
  log.event('backend', { ...backend });
  log.info(`unlearn ${command}: ${folder.dir} (backend ${backend.backend}: ${backend.reason})`);
  return { command, config, folder, log, backend };
}

/** `--config <file>` on a command. */
export function withConfigOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'run config (YAML or JSON); flags override its keys');
}

// One folder per run: everything a run produced, side by side.
//   <out>/<name>/config.yaml     the resolved config (defaults filled, paths absolute)
//   <out>/<name>/log.jsonl       the event log
//   <out>/<name>/checkpoint/     the model, as a Hugging Face folder
//   <out>/<name>/eval.json       metrics
//   <out>/<name>/report.{md,html} + SVGs
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '@unlearn/tensors';
import type { RunConfig } from '../config/schema.js';

export interface RunFolder {
  dir: string;
  name: string;
  config: string;
  log: string;
  checkpoint: string;
  eval: string;
  summary: string;
}

export function runFolderPaths(dir: string): RunFolder {
  return {
    dir,
    name: path.basename(dir),
    config: path.join(dir, 'config.yaml'),
    log: path.join(dir, 'log.jsonl'),
    checkpoint: path.join(dir, 'checkpoint'),
    eval: path.join(dir, 'eval.json'),
    summary: path.join(dir, 'summary.json'),
  };
}

/** A default run name: `<command>-<objective>-<optimizer>[-<mask>]-<timestamp>`. */
export function defaultRunName(command: string, config: RunConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const parts = command === 'unlearn' ? [config.objective.name, config.optimizer.name, config.mask?.name] : [];
  return [command, ...parts.filter(Boolean), stamp].join('-');
}

/** Creates the run folder (refusing to reuse a non-empty one) and writes the resolved config into it. */
export async function createRunFolder(command: string, config: RunConfig): Promise<RunFolder> {
  const name = config.name ?? defaultRunName(command, config);
  const dir = path.resolve(config.out, name);
  if (existsSync(path.join(dir, 'config.yaml'))) {
    throw new Error(`${dir}: a run folder with this name already exists (pick another --name or --out)`);
  }
  await mkdir(dir, { recursive: true });
  const folder = runFolderPaths(dir);
  await writeFileAtomic(folder.config, `# unlearn ${command} — resolved config\n${stringify({ command, ...config })}`);
  return folder;
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

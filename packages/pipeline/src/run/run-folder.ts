// One folder per run: everything a run produced, side by side.
//   <out>/<name>/config.yaml     the resolved config (defaults filled, paths absolute)
//   <out>/<name>/log.jsonl       the event log
//   <out>/<name>/checkpoint/     the model, as a Hugging Face folder (written when the run finishes)
//   <out>/<name>/checkpoints/    resumable training checkpoints, step-NNNNNN (training.checkpointEvery)
//   <out>/<name>/.lock           the pid of the process writing the folder
//   <out>/<name>/eval.json       metrics
//   <out>/<name>/report.{md,html} + SVGs
import { existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { writeFileAtomic } from '@unlearn/tensors';
import type { RunConfig } from '../config/schema.js';
import { acquireRunLock, type RunLock } from './run-lock.js';

export interface RunFolder {
  dir: string;
  name: string;
  config: string;
  log: string;
  checkpoint: string;
  eval: string;
  summary: string;
  /** Resumable training checkpoints (`checkpoints/step-NNNNNN`, with `training.checkpointEvery`). */
  checkpoints: string;
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
    checkpoints: path.join(dir, 'checkpoints'),
  };
}

/** A default run name: `<command>-<objective>-<optimizer>[-<mask>]-<timestamp>`. */
export function defaultRunName(command: string, config: RunConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const parts = command === 'unlearn' ? [config.objective.name, config.optimizer.name, config.mask?.name] : [];
  return [command, ...parts.filter(Boolean), stamp].join('-');
}

/** How `createRunFolder` treats a folder that already holds a run. */
export interface RunFolderOptions {
  /** Continue the run in it (its config must match in everything that shapes the training). */
  resume?: boolean;
  /** Delete what it holds and start again. */
  overwrite?: boolean;
}

/** Config sections whose change would make a resumed run a different run. */
const RESUME_KEYS = ['model', 'data', 'objective', 'optimizer', 'mask', 'training'] as const;
/** Training keys that may change between a run and its resumption. */
const RESUME_FREE = new Set(['checkpointEvery', 'keep']);

function differences(a: unknown, b: unknown, at: string, out: string[]): void {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (at === 'training' && RESUME_FREE.has(k)) continue;
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`, out);
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${at}: ${JSON.stringify(a) ?? 'unset'} → ${JSON.stringify(b) ?? 'unset'}`);
}

/**
 * Creates each missing folder of `dir` one level at a time (Node's recursive mkdir spins forever under /proc) and checks
 * that a file can be written there: one line naming the folder when not.
 */
export function ensureWritableDir(dir: string, what = 'run folder'): void {
  const missing: string[] = [];
  let cur = path.resolve(dir);
  while (!existsSync(cur)) {
    missing.unshift(cur);
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  if (!statSync(cur).isDirectory()) throw new Error(`${dir}: cannot create the ${what}: ${cur} is not a folder`);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${dir}: cannot create the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message} at ${d})`);
    }
  }
  const probe = path.join(dir, `.write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw new Error(`${dir}: the ${what} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The run folder a config names (`<out>/<name>`). */
export function runFolderDir(command: string, config: RunConfig): string {
  return path.resolve(config.out, config.name ?? defaultRunName(command, config));
}

/**
 * Creates the run folder and writes the resolved config into it, holding its lock. A folder that already holds a run is
 * refused unless `resume` (same config: the run continues) or `overwrite` (emptied, started again).
 */
export async function createRunFolder(command: string, config: RunConfig, options: RunFolderOptions = {}): Promise<{ folder: RunFolder; lock: RunLock; resumed: boolean }> {
  if (options.resume && options.overwrite) throw new Error('--resume and --overwrite: choose one (continue the run, or start it again)');
  if (options.resume && !config.name) throw new Error('--resume: needs --name, the run folder to continue (a default name is new every time)');
  const dir = runFolderDir(command, config);
  ensureWritableDir(dir);
  const folder = runFolderPaths(dir);
  const lock = acquireRunLock(dir);
  try {
    let resumed = false;
    if (existsSync(folder.config)) {
      if (options.overwrite) {
        for (const entry of await readdir(dir)) if (entry !== '.lock') await rm(path.join(dir, entry), { recursive: true, force: true });
      } else if (options.resume) {
        const stored = parse(await readFile(folder.config, 'utf8')) as Record<string, unknown>;
        if (stored?.command !== command) throw new Error(`${folder.config}: a ${String(stored?.command)} run; --resume needs the same command (${command})`);
        const diff: string[] = [];
        for (const k of RESUME_KEYS) differences(stored[k], JSON.parse(JSON.stringify(config[k] ?? null)) ?? undefined, k, diff);
        if (diff.length) throw new Error(`${folder.config}: --resume with a different config (${diff.join('; ')}); use the same flags, or --overwrite to start again`);
        resumed = true;
      } else {
        throw new Error(`${dir}: a run folder with this name already exists (--resume continues it, --overwrite starts it again, or pick another --name or --out)`);
      }
    }
    if (!resumed) await writeFileAtomic(folder.config, `# unlearn ${command} — resolved config\n${stringify({ command, ...config })}`);
    return { folder, lock, resumed };
  } catch (e) {
    lock.release();
    throw e;
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

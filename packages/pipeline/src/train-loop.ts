// Runs @unlearn/train's Trainer for a pipeline run — `finetune` ({ train } batches, NLL) and `unlearn` (a registered
// objective on forget/retain batches) — with the learning-rate schedule from the config, and every step logged as a
// `step` event (loss, its parts, tokens, seconds, optimizer stats) that callers see through `onEvent`.
import type { CausalLM, FinetuneBatch, Mask, Objective, Optimizer, StepContext, UnlearnBatch } from '@unlearn/core';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { saveModel, type TransformerLM } from '@unlearn/models';
import { directoryCheckpointIO, NonFiniteLossError, Trainer, type CheckpointIO, type TrainerOptions } from '@unlearn/train';
import type { RunLog } from './run/run-log.js';
import type { LossPoint } from './report/report.js';
import { learningRate, type ScheduleName } from './schedule.js';

export interface BatchSource<B> {
  readonly steps: number;
  /** New tensors for step `i`; the Trainer disposes them. */
  batch(i: number): B;
}

export type TrainLoopOptions = TrainLoopCommon & (
  | { objective: Objective; batches: BatchSource<UnlearnBatch> }
  | { objective?: undefined; batches: BatchSource<FinetuneBatch> }
);

interface TrainLoopCommon {
  label: string;
  model: CausalLM;
  optimizer: Optimizer;
  lr: number;
  schedule?: ScheduleName;
  warmupSteps?: number;
  clipNorm?: number;
  reference?: CausalLM;
  mask?: Mask;
  seed?: number;
  log: RunLog;
  /** Whole example sets for an optimizer whose `needs` ask for them (influence unlearning). */
  sets?: StepContext['sets'];
  /** Resumable checkpoints every `every` steps in `dir` (the newest `keep`); `files` are added to each (config.json, tokenizer). */
  checkpoint?: { dir: string; every: number; keep: number; files?: Record<string, Uint8Array> };
  /** Continue from the newest good checkpoint in `checkpoint.dir`. */
  resume?: boolean;
}

/** One optimizer statistic over the run's steps (Sophia's winRate, rho, hMedian, …; influence's damping, …). */
export interface StatSummary {
  first: number;
  median: number;
  min: number;
  max: number;
  last: number;
}

function summarize(series: Map<string, number[]>): Record<string, StatSummary> {
  const out: Record<string, StatSummary> = {};
  for (const [k, xs] of series) {
    const s = [...xs].sort((a, b) => a - b);
    const h = s.length >> 1;
    out[k] = { first: xs[0], median: s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2, min: s[0], max: s[s.length - 1], last: xs[xs.length - 1] };
  }
  return out;
}

export interface TrainLoopResult {
  steps: number;
  seconds: number;
  tokens: number;
  losses: LossPoint[];
  /** The optimizer's per-step stats summarised over the run (first, median, min, max, last of each). */
  optimizerStats: Record<string, StatSummary>;
  /** Set when the run stopped early (a non-finite loss or update): why, at which (1-based) step, the last good checkpoint. */
  stopped?: { reason: string; step: number; lastCheckpoint?: string };
  /** The step a resumed run continued from (0 when it started fresh). */
  resumedFrom: number;
}

/**
 * The files that make a Trainer checkpoint a Hugging Face model folder too (config.json, generation_config.json, the
 * tokenizer's files): written once to a scratch folder, added to every checkpoint.
 */
export async function hfCheckpointFiles(model: TransformerLM, tokenizer: { save(dir: string): Promise<void> }, scratchParent: string): Promise<Record<string, Uint8Array>> {
  const dir = await mkdtemp(path.join(scratchParent, '.hf-files-'));
  try {
    await saveModel(model, dir, { tokenizer });
    const files: Record<string, Uint8Array> = {};
    for (const f of await readdir(dir)) if (f !== 'model.safetensors') files[f] = new Uint8Array(await readFile(path.join(dir, f)));
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The step events an earlier (interrupted) attempt of this run logged, by 1-based step (the last record of each wins). */
function loggedLosses(file: string | undefined, label: string): Map<number, LossPoint> {
  const out = new Map<number, LossPoint>();
  if (!file) return out;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"event":"step"')) continue;
    try {
      const e = JSON.parse(line) as { event: string; label?: string; step: number; loss: number; parts?: Record<string, number> };
      if (e.event === 'step' && e.label === label) out.set(e.step, { step: e.step, loss: e.loss, parts: e.parts && Object.keys(e.parts).length ? e.parts : undefined });
    } catch {
      // a line cut by a kill
    }
  }
  return out;
}

function withFiles(io: CheckpointIO, files: Record<string, Uint8Array>): CheckpointIO {
  return { ...io, where: io.where, save: (name, f) => io.save(name, { ...files, ...f }), sweep: io.sweep?.bind(io) };
}

export async function runTrainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const total = o.batches.steps;
  const losses: LossPoint[] = [];
  const started = Date.now();
  let tokens = 0;
  let steps = 0;
  let stopped: TrainLoopResult['stopped'];
  let resumedFrom = 0;
  let first = true;
  const earlier = o.resume ? loggedLosses(o.log.file, o.label) : new Map<number, LossPoint>();
  const series = new Map<string, number[]>();
  const ck = o.checkpoint;
  const trainer = new Trainer({
    model: o.model,
    objective: o.objective,
    optimizer: o.optimizer,
    data: (step: number) => o.batches.batch(step),
    steps: total,
    schedule: (step) => learningRate(o.schedule ?? 'constant', o.lr, step, total, o.warmupSteps ?? 0),
    maxGradNorm: o.clipNorm,
    reference: o.reference,
    mask: o.mask,
    seed: o.seed,
    sets: o.sets,
    ...(ck ? { checkpoint: { io: withFiles(directoryCheckpointIO(ck.dir), ck.files ?? {}), every: ck.every, keep: ck.keep } } : {}),
    onWarning: (message: string) => o.log.event('warning', { message }),
    onStep: async (e) => {
      // let the event loop run between steps: on backends whose reads resolve as microtasks (cpu, wasm) a signal
      // (Ctrl-C) or a timer would otherwise wait for the whole run
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (first) {
        first = false;
        if (o.resume) {
          resumedFrom = e.step;
          for (const [s, point] of [...earlier].sort((a, b) => a[0] - b[0])) if (s <= e.step) losses.push(point);
          o.log.event('resume', { step: e.step, checkpoint: e.step > 0 ? path.join(ck!.dir, `step-${String(e.step).padStart(6, '0')}`) : undefined });
          if (e.step > 0) o.log.info(`${o.label}: resumed after step ${e.step} of ${total}`);
        }
      }
      for (const [k, v] of Object.entries(e.stats)) if (typeof v === 'number' && Number.isFinite(v)) series.set(k, [...(series.get(k) ?? []), v]);
      steps = e.step + 1;
      tokens += e.tokens;
      losses.push({ step: steps, loss: e.loss, parts: Object.keys(e.parts).length ? e.parts : undefined });
      o.log.event('step', {
        label: o.label, step: steps, total, loss: e.loss, parts: e.parts, tokens: e.tokens, seconds: e.seconds, lr: e.lr,
        gradNorm: e.gradNorm, ...e.stats,
      });
    },
  } as TrainerOptions);
  try {
    const result = await trainer.run({ resume: !!o.resume && !!ck });
    if (first && o.resume && result.steps > 0) {
      // resumed at the very end: nothing left to run
      resumedFrom = result.steps;
      for (const [, point] of [...earlier].sort((a, b) => a[0] - b[0])) losses.push(point);
      o.log.event('resume', { step: result.steps, checkpoint: result.checkpoint ? path.join(ck!.dir, result.checkpoint) : undefined });
    }
    steps = result.steps;
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e;
    stopped = { reason: e.message, step: e.step + 1, ...(e.lastCheckpoint && ck ? { lastCheckpoint: path.join(ck.dir, e.lastCheckpoint) } : {}) };
  } finally {
    o.log.event('progress-end', { label: o.label, seconds: (Date.now() - started) / 1000, tokens });
  }
  if (stopped) o.log.info(`${o.label}: stopped at step ${stopped.step} — ${stopped.reason}`);
  const optimizerStats = summarize(series);
  const w = optimizerStats.winRate;
  if (w) o.log.info(`${o.label}: ${o.optimizer.name} win rate median ${w.median.toFixed(3)} (${w.min.toFixed(3)}–${w.max.toFixed(3)} over ${steps} steps)`);
  return { steps, seconds: (Date.now() - started) / 1000, tokens, losses, optimizerStats, stopped, resumedFrom };
}

/**
 * Steps of a run from its training section: `training.steps` when set (it overrides epochs: the batches cycle through
 * as many passes as it takes), else `epochs × batches per pass`, fractional epochs included (1.5 epochs of 10 batches
 * = 15 steps). `passes` is how many passes to plan (the last one partly used).
 */
export function planSteps(training: { epochs: number; steps?: number }, perEpoch: number): { steps: number; passes: number } {
  if (perEpoch < 1) throw new Error('training: no batches to train on (the split is empty)');
  const steps = training.steps ?? Math.max(1, Math.round(training.epochs * perEpoch));
  return { steps, passes: Math.ceil(steps / perEpoch) };
}

/** The checkpoint options of a pipeline run (`training.checkpointEvery`, `training.keep`) with HF files in each. */
export async function runCheckpoints(
  training: { checkpointEvery?: number; keep: number }, dir: string, model: TransformerLM, tokenizer: { save(dir: string): Promise<void> }, resumed: boolean,
): Promise<TrainLoopOptions['checkpoint']> {
  if (!training.checkpointEvery && !resumed) return undefined;
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  // a resumed run without checkpointEvery still restores, and checkpoints at the end only
  return { dir, every: training.checkpointEvery ?? Number.MAX_SAFE_INTEGER, keep: training.keep, files: await hfCheckpointFiles(model, tokenizer, dir) };
}

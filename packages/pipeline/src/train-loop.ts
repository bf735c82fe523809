// Runs @unlearn/train's Trainer for a pipeline run — `finetune` ({ train } batches, NLL) and `unlearn` (a registered
// objective on forget/retain batches) — with the learning-rate schedule from the config, and every step logged as a
// `step` event (loss, its parts, tokens, seconds, optimizer stats) that callers see through `onEvent`.
import type { CausalLM, FinetuneBatch, Mask, Objective, Optimizer, UnlearnBatch } from '@unlearn/core';
import { NonFiniteLossError, Trainer, type TrainerOptions } from '@unlearn/train';
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
}

export interface TrainLoopResult {
  steps: number;
  seconds: number;
  tokens: number;
  losses: LossPoint[];
  /** Set when the run stopped early (a non-finite loss); the parameters are those before the failing step. */
  stoppedBecause?: string;
}

export async function runTrainLoop(o: TrainLoopOptions): Promise<TrainLoopResult> {
  const total = o.batches.steps;
  const losses: LossPoint[] = [];
  const started = Date.now();
  let tokens = 0;
  let steps = 0;
  let stoppedBecause: string | undefined;
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
    onStep: (e) => {
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
    await trainer.run();
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e;
    stoppedBecause = e.message;
  } finally {
    o.log.event('progress-end', { label: o.label, seconds: (Date.now() - started) / 1000, tokens });
  }
  if (stoppedBecause) o.log.info(`${o.label}: stopped early — ${stoppedBecause}`);
  return { steps, seconds: (Date.now() - started) / 1000, tokens, losses, stoppedBecause };
}

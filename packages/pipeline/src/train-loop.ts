// Runs @unlearn/train's Trainer for a pipeline run — `finetune` ({ train } batches, NLL) and `unlearn` (a registered
// objective on forget/retain batches) — with the learning-rate schedule from the config, and every step logged as a
// `step` event (loss, its parts, tokens, seconds, optimizer stats) that callers see through `onEvent`.
import type { CausalLM, FinetuneBatch, Mask, Objective, Optimizer, StepContext, UnlearnBatch } from '@unlearn/core';
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
  /** Whole example sets for an optimizer whose `needs` ask for them (influence unlearning). */
  sets?: StepContext['sets'];
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
  const series = new Map<string, number[]>();
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
    onStep: (e) => {
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
    await trainer.run();
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e;
    stoppedBecause = e.message;
  } finally {
    o.log.event('progress-end', { label: o.label, seconds: (Date.now() - started) / 1000, tokens });
  }
  if (stoppedBecause) o.log.info(`${o.label}: stopped early — ${stoppedBecause}`);
  const optimizerStats = summarize(series);
  const w = optimizerStats.winRate;
  if (w) o.log.info(`${o.label}: ${o.optimizer.name} win rate median ${w.median.toFixed(3)} (${w.min.toFixed(3)}–${w.max.toFixed(3)} over ${steps} steps)`);
  return { steps, seconds: (Date.now() - started) / 1000, tokens, losses, optimizerStats, stoppedBecause };
}

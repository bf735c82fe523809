// `unlearn bench`: step time and tokens/s of forward-only, AdamW and each Sophia estimator on ONE backend (the one
// this process runs), on a fixed random batch. bench/speed/run.mjs runs it once per backend in its own process (so
// peak RSS is per backend) next to the PyTorch twin of the same model.
import * as tf from '@tensorflow/tfjs-core';
import type { CurvatureProbe, FinetuneBatch, Optimizer, ParamMap, TensorMap } from '@unlearn/core';
import { get } from '@unlearn/core';
import { createModel, loadModel, type TransformerLM } from '@unlearn/models';
import '@unlearn/optim'; // registers adamw, sophia, zo-sgd
import { initBackend, writeFileAtomic } from '@unlearn/tensors';
import { createCurvatureProbe, gradientsOf, lossOf, stepTask } from '@unlearn/train';
import type { CliIO } from '../cli.js';

export const BENCH_MODES = ['forward', 'adamw', 'sophia-gnb', 'sophia-fisher', 'sophia-hutchinson', 'zo-sgd'] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

/** stories260K's architecture (Karpathy's llama2.c, MIT): the default benchmark model, random weights. */
export const STORIES260K_CONFIG = {
  model_type: 'llama', vocab_size: 512, hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5,
  num_attention_heads: 8, num_key_value_heads: 4, head_dim: 8, max_position_embeddings: 512, rms_norm_eps: 1e-5,
  rope_theta: 10000, tie_word_embeddings: true,
};

export interface BenchResult {
  mode: BenchMode;
  backend: string;
  stepSeconds: number[];
  /** Median step time (robust to a slow step on a shared machine). */
  meanSeconds: number;
  tokensPerStep: number;
  tokensPerSecond: number;
  /** Peak tensor memory one step adds on top of the model and batch (tf.profile's peakBytes − bytes before), MB. */
  stepPeakMB?: number;
  /** Set when this mode could not run on the backend (the first line of the error). */
  error?: string;
}

export interface BenchReport {
  backend: string;
  details: Record<string, unknown>;
  model: string;
  params: number;
  batch: number;
  seq: number;
  results: BenchResult[];
  peakRssMB: number;
  node: string;
}

function optimizerFor(mode: BenchMode): Optimizer | null {
  if (mode === 'forward') return null;
  if (mode === 'adamw') return get('optimizer', 'adamw')({ lr: 1e-4 });
  // MeZO two-point estimate, one query: forward passes only, no gradient tape (memory ≈ inference)
  if (mode === 'zo-sgd') return get('optimizer', 'zo-sgd')({ lr: 1e-4 });
  // k = 1: every step pays for its curvature estimate, so the time is the estimator's full cost
  return get('optimizer', 'sophia')({ lr: 1e-4, estimator: mode.slice('sophia-'.length), k: 1 });
}

async function timeMode(
  model: TransformerLM, batch: FinetuneBatch, mode: BenchMode, steps: number, warmup: number,
): Promise<{ times: number[]; stepPeakMB: number }> {
  const params: ParamMap = new Map([...model.params].filter(([, v]) => v.trainable));
  const optimizer = optimizerFor(mode);
  const last = [...params.values()].at(-1)!;
  // The step the Trainer takes on a fine-tuning batch (NLL of `train`), through @unlearn/train's own pieces.
  const oneStep = async (i: number): Promise<void> => {
    const task = stepTask(model, batch, undefined, { step: i });
    if (!optimizer) {
      const loss = tf.tidy(() => lossOf(task.loss()));
      await loss.data(); // asynchronous read: webgpu in Node has no synchronous readback
      loss.dispose();
      return;
    }
    // zeroth-order optimizers take no gradients: no tape is opened, as in the Trainer
    const grads: TensorMap = optimizer.usesGradients === false ? new Map() : gradientsOf(() => lossOf(task.loss()), params);
    // built on first use, as the Trainer does: AdamW and Sophia-fisher never pay for it
    let real: ReturnType<typeof createCurvatureProbe> | undefined;
    const probe = new Proxy({} as CurvatureProbe, {
      get: (_, key) => (real ??= createCurvatureProbe({ model, batch, objectiveContext: { step: i }, params }))[key as keyof CurvatureProbe],
    });
    try {
      await optimizer.step(params, grads, { step: i, probe, seed: i });
    } finally {
      real?.dispose();
      tf.dispose([...grads.values()]);
    }
    await last.data(); // wait for the update (asynchronous backends)
  };
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      await oneStep(i);
      if (i >= warmup) times.push((performance.now() - t0) / 1000);
    }
    // one more, untimed step under tf.profile for its peak tensor memory
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => oneStep(warmup + steps));
    return { times, stepPeakMB: Math.max(0, info.peakBytes - before) / 2 ** 20 };
  } finally {
    optimizer?.dispose();
  }
}

export async function runBench(o: {
  backend: string; model?: string; steps: number; warmup: number; batchSize: number; seq: number; modes?: BenchMode[];
}): Promise<BenchReport> {
  const report = await initBackend(o.backend as 'auto');
  const model = o.model ? await loadModel(o.model) : createModel(STORIES260K_CONFIG, { seed: 0 });
  const vocab = model.config.vocab_size;
  const ids = tf.tidy(() => tf.cast(tf.mul(tf.randomUniform([o.batchSize, o.seq], 0, 1, 'float32', 0), vocab - 1), 'int32') as tf.Tensor2D);
  const batch: FinetuneBatch = { train: { inputIds: ids, attentionMask: tf.onesLike(ids), labels: tf.clone(ids) } };
  const results: BenchResult[] = [];
  try {
    for (const mode of o.modes ?? BENCH_MODES) {
      let stepSeconds: number[];
      let stepPeakMB: number;
      try {
        ({ times: stepSeconds, stepPeakMB } = await timeMode(model, batch, mode, o.steps, o.warmup));
      } catch (e) {
        const error = (e as Error).message.split('\n')[0];
        results.push({ mode, backend: report.backend, stepSeconds: [], meanSeconds: NaN, tokensPerStep: o.batchSize * o.seq, tokensPerSecond: NaN, error });
        continue;
      }
      // the median: robust to the odd slow step on a shared machine
      const sorted = [...stepSeconds].sort((a, b) => a - b);
      const meanSeconds = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
      const tokensPerStep = o.batchSize * o.seq;
      results.push({ mode, backend: report.backend, stepSeconds, meanSeconds, tokensPerStep, tokensPerSecond: tokensPerStep / meanSeconds, stepPeakMB });
    }
  } finally {
    tf.dispose([batch.train.inputIds, batch.train.attentionMask, batch.train.labels]);
    model.dispose();
  }
  const params = [...model.params.values()].reduce((n, v) => n + v.size, 0);
  return {
    backend: report.backend, details: report.details, model: o.model ?? 'stories260K config (random weights)', params,
    batch: o.batchSize, seq: o.seq, results, peakRssMB: process.resourceUsage().maxRSS / 1024, node: process.version,
  };
}

export async function benchCommand(
  o: { backend: string; model?: string; steps: number; warmup: number; batchSize: number; seq: number; modes?: string; json?: string },
  io: CliIO,
): Promise<BenchReport> {
  const modes = o.modes?.split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of modes ?? []) {
    if (!(BENCH_MODES as readonly string[]).includes(m)) throw new Error(`--modes: "${m}" is not one of ${BENCH_MODES.join(', ')}`);
  }
  const r = await runBench({ ...o, modes: modes as BenchMode[] | undefined });
  io.stdout.write(`backend ${r.backend} · ${r.model} · ${r.params} params · batch ${r.batch}×${r.seq}\n`);
  io.stdout.write(`${'mode'.padEnd(18)}${'step (s)'.padStart(10)}${'tokens/s'.padStart(10)}\n`);
  for (const x of r.results) {
    if (x.error) io.stdout.write(`${x.mode.padEnd(18)}  failed: ${x.error}\n`);
    else io.stdout.write(`${x.mode.padEnd(18)}${x.meanSeconds.toFixed(3).padStart(10)}${Math.round(x.tokensPerSecond).toString().padStart(10)}\n`);
  }
  io.stdout.write(`peak RSS ${r.peakRssMB.toFixed(0)} MB\n`);
  if (o.json) await writeFileAtomic(o.json, `${JSON.stringify(r, null, 2)}\n`);
  return r;
}

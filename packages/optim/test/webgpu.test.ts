// Every optimizer and the curvature probe run on WebGPU in Node (Dawn on Mesa llvmpipe here and in CI), where tensors
// cannot be read synchronously (dataSync throws "OffscreenCanvas is not defined"): 2 Trainer steps each on a tiny Llama
// with GradDiff, finite losses, no leaked tensors, moved parameters; the deterministic ones (AdamW, Sophia-fisher)
// match the same run on cpu to 1e-4; a checkpoint resume (loadState) repeats the uninterrupted run exactly.
// Reference runs happen on cpu first; the file then switches to webgpu (cpu → webgpu data moves need no readback) with
// CPU forwarding of small kernels off, so everything runs on the GPU.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { initBackend } from '@unlearn/tensors';
import { Trainer, createCurvatureProbe, memoryCheckpointIO, type CheckpointIO } from '@unlearn/train';
import type { Optimizer, TensorMap, TokenBatch, UnlearnBatch } from '@unlearn/core';
import { createModel } from '@unlearn/models';
import { graddiff } from '@unlearn/objectives';
import { adamw, clipByGlobalNorm, influence, sophia, zoSgd } from '../src/index.js';

const config = {
  model_type: 'llama', vocab_size: 32, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2,
  num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 16, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false,
};
const P = -100;
const part = (ids: number[][], labels: number[][]): TokenBatch => ({
  inputIds: tf.tensor2d(ids, undefined, 'int32') as Tensor2D,
  attentionMask: tf.tensor2d(ids.map((r) => r.map(() => 1)), undefined, 'int32') as Tensor2D,
  labels: tf.tensor2d(labels, undefined, 'int32') as Tensor2D,
});
const makeBatch = (): UnlearnBatch => ({
  forget: part([[1, 5, 9, 12, 7], [1, 8, 4, 2, 3]], [[P, P, 9, 12, 7], [P, 8, 4, 2, 3]]),
  retain: part([[1, 20, 21, 22, 23], [1, 30, 31, 2, 6]], [[P, 20, 21, 22, 23], [P, P, 31, 2, 6]]),
});
const disposeBatch = (b: UnlearnBatch) => Object.values(b).forEach((p: TokenBatch) => tf.dispose([p.inputIds, p.attentionMask, p.labels]));

const OPTIMIZERS: Record<string, { make: () => Optimizer; steps: number }> = {
  adamw: { make: () => adamw({ lr: 1e-2 }), steps: 2 },
  'sophia-fisher': { make: () => sophia({ lr: 1e-2, estimator: 'fisher' }), steps: 2 },
  'sophia-gnb': { make: () => sophia({ lr: 1e-2, estimator: 'gnb', k: 1 }), steps: 2 },
  'sophia-hutchinson': { make: () => sophia({ lr: 1e-2, estimator: 'hutchinson', k: 1 }), steps: 2 },
  'zo-sgd': { make: () => zoSgd({ lr: 1e-2, queries: 2 }), steps: 2 },
  'influence-cg': { make: () => influence({ solver: 'cg', damping: 0.1, scale: 0.1, maxIterations: 4 }), steps: 1 },
  'influence-woodfisher': { make: () => influence({ solver: 'woodfisher', damping: 0.1, scale: 0.1 }), steps: 1 },
};
/** Runs whose result does not hinge on a sampled label or a finite difference: compared with cpu to 1e-4. */
const DETERMINISTIC = ['adamw', 'sophia-fisher'];

interface RunResult {
  losses: number[];
  stats: Record<string, number>[];
  params: Record<string, number[]>;
  moved: number;
}

/** Two Trainer steps (one for influence) from the same seeded init; parameters read back asynchronously. */
async function trainTiny(name: string, extra: { checkpoint?: { io: CheckpointIO; every: number }; crashAfter?: number; resume?: boolean } = {}): Promise<RunResult> {
  const model = createModel(config, { seed: 1 });
  const batch = makeBatch();
  const optimizer = OPTIMIZERS[name].make();
  const start = await readAll(model.params as unknown as TensorMap);
  const losses: number[] = [];
  const stats: Record<string, number>[] = [];
  try {
    await new Trainer({
      model, objective: graddiff(), optimizer, data: [batch], steps: OPTIMIZERS[name].steps, seed: 7, checkpoint: extra.checkpoint,
      onStep: (e) => {
        losses.push(e.loss);
        stats.push(e.stats);
        if (e.step === extra.crashAfter) throw new Error('crash');
      },
    }).run({ resume: extra.resume });
    const params = await readAll(model.params as unknown as TensorMap);
    let moved = 0;
    for (const [n, values] of Object.entries(params)) values.forEach((x, i) => (moved += x !== start[n][i] ? 1 : 0));
    return { losses, stats, params, moved };
  } finally {
    optimizer.dispose();
    disposeBatch(batch);
    model.dispose();
  }
}

async function readAll(m: TensorMap): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [n, t] of m) out[n] = Array.from(await t.data());
  return out;
}

function maxAbsDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let worst = 0;
  for (const [n, values] of Object.entries(b)) values.forEach((x, i) => (worst = Math.max(worst, Math.abs(a[n][i] - x))));
  return worst;
}

const onCpu: Record<string, RunResult> = {};
beforeAll(async () => {
  await initBackend('cpu');
  for (const name of DETERMINISTIC) onCpu[name] = await trainTiny(name);
  await initBackend('webgpu');
  // tfjs-backend-webgpu runs kernels on small CPU-resident inputs on the CPU (WEBGPU_CPU_FORWARD); the tiny model's
  // tensors are that small, so turn it off: every kernel runs on the GPU and every read is a real GPU download.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
});

/** The Dawn device behind tfjs: WebGPU reports invalid pipelines or submits only through error scopes, not exceptions. */
const device = () => (tf.backend() as unknown as { device: { pushErrorScope(f: 'validation'): void; popErrorScope(): Promise<{ message: string } | null> } }).device;

describe('webgpu (no synchronous readback)', () => {
  // A validation error means WebGPU silently dropped a command batch (e.g. an AddN of ≥ 8 inputs): fail the test.
  beforeEach(() => device().pushErrorScope('validation'));
  afterEach(async () => {
    const error = await device().popErrorScope();
    expect(error?.message ?? null).toBeNull();
  });

  it('is the active backend, and dataSync of a computed tensor really is unavailable there', () => {
    expect(tf.getBackend()).toBe('webgpu');
    const t = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1));
    try {
      expect(() => t.dataSync()).toThrow(/OffscreenCanvas/);
    } finally {
      t.dispose();
    }
  });

  it.each(Object.keys(OPTIMIZERS))('%s: Trainer steps with finite losses, moved parameters, no leaks', async (name) => {
    const before = tf.memory().numTensors;
    const r = await trainTiny(name);
    expect(r.losses).toHaveLength(OPTIMIZERS[name].steps);
    r.losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));
    for (const s of r.stats) for (const [k, v] of Object.entries(s)) expect(Number.isFinite(v), `${name} stat ${k}`).toBe(true);
    expect(r.moved).toBeGreaterThan(0);
    if (name.startsWith('sophia')) r.stats.forEach((s) => expect(s.winRate).toBeGreaterThanOrEqual(0));
    if (name === 'influence-woodfisher') expect(r.stats[0].examples).toBe(2);
    if (name === 'influence-cg') expect(r.stats[0].iterations).toBeGreaterThan(0);
    if (DETERMINISTIC.includes(name)) {
      expect(maxAbsDiff(r.params, onCpu[name].params)).toBeLessThan(1e-4);
      r.losses.forEach((l, i) => expect(Math.abs(l - onCpu[name].losses[i])).toBeLessThan(1e-4));
      r.stats.forEach((s, i) => Object.entries(s).forEach(([k, v]) => expect(Math.abs(v - onCpu[name].stats[i][k]), k).toBeLessThan(1e-4)));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resuming from a checkpoint (optimizer loadState) repeats the uninterrupted run exactly', async () => {
    const before = tf.memory().numTensors;
    const whole = await trainTiny('sophia-fisher');
    const io = memoryCheckpointIO();
    await expect(trainTiny('sophia-fisher', { checkpoint: { io, every: 1 }, crashAfter: 1 })).rejects.toThrow('crash');
    const resumed = await trainTiny('sophia-fisher', { checkpoint: { io, every: 1 }, resume: true });
    expect(resumed.losses).toHaveLength(1); // only step 1 was left
    expect(resumed.params).toEqual(whole.params);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the probe reads counts and losses, and clipping reads the norm, asynchronously', async () => {
    const before = tf.memory().numTensors;
    const model = createModel(config, { seed: 2 });
    const batch = makeBatch();
    const probe = createCurvatureProbe({ model, objective: graddiff(), batch, objectiveContext: { step: 0 } });
    expect(await probe.batchTokens()).toBe(7 + 7); // shifted labels: forget 3 + 4, retain 4 + 3
    expect(await probe.retain!.examples()).toBe(2);
    expect(Number.isFinite(await probe.lossValue())).toBe(true);
    const grads = new Map([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([0, 4])]]);
    const clipped = await clipByGlobalNorm(grads, 1);
    expect(clipped.norm).toBeCloseTo(5, 5);
    expect(Array.from(await clipped.grads.get('b')!.data())[1]).toBeCloseTo(0.8, 5);
    tf.dispose([...grads.values(), ...clipped.grads.values()]);
    probe.dispose();
    disposeBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

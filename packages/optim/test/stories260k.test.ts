// Zeroth-order unlearning on a real pretrained model (stories260K, ../shared/models): GA and NPO with zo-sgd raise the
// forget NLL, and a zero-order step's peak tensor memory is below AdamW's (no activations kept for backprop).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { Trainer } from '@unlearn/train';
import type { CausalLM, Objective, Optimizer, TokenBatch, UnlearnBatch } from '@unlearn/core';
import { loadModel, loadTokenizer } from '@unlearn/models';
import { ga, meanNll, npo } from '@unlearn/objectives';
import { adamw, zoSgd } from '../src/index.js';

const STORIES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/models/stories260K');

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'wasm') as BackendName);
});

const part = (rows: number[][]): TokenBatch => ({
  inputIds: tf.tensor2d(rows, undefined, 'int32') as Tensor2D,
  attentionMask: tf.tensor2d(rows.map((r) => r.map(() => 1)), undefined, 'int32') as Tensor2D,
  labels: tf.tensor2d(rows, undefined, 'int32') as Tensor2D,
});
const FORGET = ['Lily found a needle in her room. She knew it was sharp.', 'Lily went to her mom and said, "Mom, I found this needle."'];
const RETAIN = ['Tom had a red ball. He liked to play with it in the park.'];

describe('zero-order unlearning on stories260K (wasm)', () => {
  const nll = (model: CausalLM, p: TokenBatch) => tf.tidy(() => meanNll(model.forward(p).logits, p.labels).dataSync()[0]);

  async function unlearn(objective: Objective, optimizer: Optimizer, steps: number) {
    const model = await loadModel(STORIES);
    const tokenizer = await loadTokenizer(STORIES);
    const encode = async (texts: string[]) => {
      const ids = await tokenizer.encodeBatch(texts);
      const width = Math.min(...ids.map((r) => r.length));
      return ids.map((r) => r.slice(0, width));
    };
    const batch: UnlearnBatch = { forget: part(await encode(FORGET)), retain: part(await encode(RETAIN)) };
    const before = nll(model, batch.forget);
    await new Trainer({ model, objective, optimizer, data: [batch], steps: steps - 1, seed: 1 }).run();
    const profile = await tf.profile(async () => {
      await new Trainer({ model, objective, optimizer, data: [batch], steps: 1, seed: 2 }).run();
      return [];
    });
    const after = nll(model, batch.forget);
    optimizer.dispose();
    for (const p of Object.values(batch) as TokenBatch[]) tf.dispose([p.inputIds, p.attentionMask, p.labels]);
    model.dispose();
    return { before, after, peakBytes: profile.peakBytes };
  }

  it('GA and NPO with zo-sgd raise the forget NLL; a zo step peaks below an AdamW step in tensor memory', async () => {
    const start = tf.memory().numTensors;
    const zoGa = await unlearn(ga(), zoSgd({ lr: 2e-4, queries: 4 }), 12);
    const zoNpo = await unlearn(npo(), zoSgd({ lr: 2e-4, queries: 4 }), 12);
    const adamGa = await unlearn(ga(), adamw({ lr: 1e-3, weightDecay: 0 }), 2);
    expect(zoGa.after).toBeGreaterThan(zoGa.before + 0.1); // measured 1.99 → 2.21
    expect(zoNpo.after).toBeGreaterThan(zoNpo.before + 0.5); // measured 1.99 → 10.3
    expect(zoGa.peakBytes).toBeLessThan(adamGa.peakBytes / 2); // measured 6.5 MB vs 20.3 MB
    expect(tf.memory().numTensors).toBe(start);
  });
});

// Golden values from an independent PyTorch implementation (test/fixtures/make_tiny_models.py): logits of
// GPT-2, Qwen2 (GQA + q/k/v bias + untied head) and Mistral (sliding window) checkpoints, run here as left- and
// right-padded batches, and gradients of the mean next-token NLL for every parameter.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, padBatch, type TransformerLM } from './index.js';
import { FIXTURES_DIR, useTestBackend } from './test-utils/setup.js';

interface Expected {
  rows: number[][];
  logits: number[][][];
  loss: number;
  grads: Record<string, { sum: number; norm: number; first4: number[] }>;
}

/** Mean NLL of next tokens over positions where both the token and its successor are real. */
function maskedNll(model: TransformerLM, ids: Tensor2D, mask: Tensor2D): tf.Scalar {
  const [B, T] = ids.shape;
  const { logits } = model.forward({ inputIds: ids, attentionMask: mask });
  const V = logits.shape[2];
  const logp = tf.logSoftmax(tf.reshape(tf.slice(logits, [0, 0, 0], [B, T - 1, V]), [B * (T - 1), V]));
  const targets = tf.oneHot(tf.reshape(tf.slice(ids, [0, 1], [B, T - 1]), [-1]), V);
  const weight = tf.reshape(tf.mul(tf.slice(mask, [0, 0], [B, T - 1]), tf.slice(mask, [0, 1], [B, T - 1])), [-1, 1]);
  const picked = tf.sum(tf.mul(tf.mul(logp, targets), tf.cast(weight, 'float32')));
  return tf.div(tf.neg(picked), tf.sum(tf.cast(weight, 'float32')));
}

describe.each(['gpt2-tiny', 'qwen2-tiny', 'mistral-tiny'])('%s against PyTorch', (name) => {
  const dir = path.join(FIXTURES_DIR, name);
  const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
  beforeAll(useTestBackend);

  it.each(['left', 'right'] as const)('%s-padded batch: logits at real positions match per-row PyTorch to 1e-4', async (side) => {
    const before = tf.memory().numTensors;
    const model = await loadModel(dir);
    const batch = padBatch(expected.rows, 0, { paddingSide: side });
    const ids = tf.tensor2d(batch.inputIds, undefined, 'int32');
    const mask = tf.tensor2d(batch.attentionMask, undefined, 'int32');
    const { logits } = model.forward({ inputIds: ids, attentionMask: mask });
    const got = (await logits.array()) as number[][][];
    const T = batch.inputIds[0].length;
    expected.rows.forEach((row, r) => {
      const offset = side === 'left' ? T - row.length : 0;
      let worst = 0;
      row.forEach((_, t) => expected.logits[r][t].forEach((v, j) => (worst = Math.max(worst, Math.abs(got[r][offset + t][j] - v)))));
      expect(worst).toBeLessThan(1e-4);
    });
    tf.dispose([ids, mask, logits]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradient of the mean NLL matches PyTorch for every parameter (padded batch)', async () => {
    const before = tf.memory().numTensors;
    const model = await loadModel(dir);
    const batch = padBatch(expected.rows, 0, { paddingSide: 'left' });
    const ids = tf.tensor2d(batch.inputIds, undefined, 'int32');
    const mask = tf.tensor2d(batch.attentionMask, undefined, 'int32');
    const names = [...model.params.keys()];
    const { value, grads } = tf.variableGrads(() => maskedNll(model, ids, mask), [...model.params.values()]);
    expect(await value.data()).toHaveLength(1);
    expect((await value.data())[0]).toBeCloseTo(expected.loss, 5);
    expect(names.sort()).toEqual(Object.keys(expected.grads).sort());
    for (const [n, v] of model.params) {
      const g = grads[v.name];
      const want = expected.grads[n];
      const data = await g.data();
      const sum = data.reduce((s, x) => s + x, 0);
      const norm = Math.sqrt(data.reduce((s, x) => s + x * x, 0));
      expect(Math.abs(norm - want.norm), `${n} norm`).toBeLessThan(1e-4 + 1e-3 * want.norm);
      expect(Math.abs(sum - want.sum), `${n} sum`).toBeLessThan(1e-4 + 1e-3 * Math.abs(want.norm));
      want.first4.forEach((x, i) => expect(Math.abs(data[i] - x), `${n}[${i}]`).toBeLessThan(1e-5 + 1e-3 * want.norm));
    }
    tf.dispose([ids, mask, value, ...Object.values(grads)]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// Comparisons against the PyTorch golden fixtures (test/fixtures/make_tiny_models.py).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { loadModel, padBatch, type TransformerLM } from '../index.js';

export interface Expected {
  rows: number[][];
  logits: number[][][];
  loss: number;
  grads: Record<string, { sum: number; norm: number; first4: number[] }>;
}

/** Mean NLL of next tokens over positions where both the token and its successor are real. */
export function maskedNll(model: TransformerLM, ids: Tensor2D, mask: Tensor2D): tf.Scalar {
  const [B, T] = ids.shape;
  const { logits } = model.forward({ inputIds: ids, attentionMask: mask });
  const V = logits.shape[2];
  const logp = tf.logSoftmax(tf.reshape(tf.slice(logits, [0, 0, 0], [B, T - 1, V]), [B * (T - 1), V]));
  const targets = tf.oneHot(tf.reshape(tf.slice(ids, [0, 1], [B, T - 1]), [-1]), V);
  const weight = tf.reshape(tf.mul(tf.slice(mask, [0, 0], [B, T - 1]), tf.slice(mask, [0, 1], [B, T - 1])), [-1, 1]);
  const picked = tf.sum(tf.mul(tf.mul(logp, targets), tf.cast(weight, 'float32')));
  return tf.div(tf.neg(picked), tf.sum(tf.cast(weight, 'float32')));
}


export function readExpected(dir: string): Expected {
  return JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
}

/** Loads the fixture, takes the gradient of the mean NLL of its left-padded rows, and compares with PyTorch. */
export async function expectGradientsMatchTorch(dir: string): Promise<void> {
  const expected = readExpected(dir);
  const before = tf.memory().numTensors;
  const model = await loadModel(dir);
  const batch = padBatch(expected.rows, 0, { paddingSide: 'left' });
  const ids = tf.tensor2d(batch.inputIds, undefined, 'int32') as Tensor2D;
  const mask = tf.tensor2d(batch.attentionMask, undefined, 'int32') as Tensor2D;
  const { value, grads } = tf.variableGrads(() => maskedNll(model, ids, mask), [...model.params.values()]);
  expect((await value.data())[0]).toBeCloseTo(expected.loss, 5);
  expect([...model.params.keys()].sort()).toEqual(Object.keys(expected.grads).sort());
  for (const [n, v] of model.params) {
    const want = expected.grads[n];
    const data = (await grads[v.name].data()) as Float32Array;
    const sum = data.reduce((s, x) => s + x, 0);
    const norm = Math.sqrt(data.reduce((s, x) => s + x * x, 0));
    expect(Math.abs(norm - want.norm), `${n} norm`).toBeLessThan(1e-4 + 1e-3 * want.norm);
    expect(Math.abs(sum - want.sum), `${n} sum`).toBeLessThan(1e-4 + 1e-3 * want.norm);
    want.first4.forEach((x, i) => expect(Math.abs(data[i] - x), `${n}[${i}]`).toBeLessThan(1e-5 + 1e-3 * want.norm));
  }
  tf.dispose([ids, mask, value, ...Object.values(grads)]);
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

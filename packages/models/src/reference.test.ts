// Golden values from an independent PyTorch implementation (test/fixtures/make_tiny_models.py): logits of
// GPT-2, Qwen2 (GQA + q/k/v bias + untied head) and Mistral (sliding window) checkpoints, run here as left- and
// right-padded batches, and gradients of the mean next-token NLL for every parameter.
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, padBatch } from './index.js';
import { expectGradientsMatchTorch, readExpected } from './test-utils/golden.js';
import { FIXTURES_DIR, useTestBackend } from './test-utils/setup.js';

describe.each(['gpt2-tiny', 'qwen2-tiny', 'mistral-tiny'])('%s against PyTorch', (name) => {
  const dir = path.join(FIXTURES_DIR, name);
  const expected = readExpected(dir);
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

  it('gradient of the mean NLL matches PyTorch for every parameter (left-padded batch)', () => expectGradientsMatchTorch(dir));
});

// Per-sample probability, MIA scores, ES and EM from fixed logits vs open-unlearning's torch code
// (fixtures/make_mia.py → mia.json).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@unlearn/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerStatsFromLogits, exactMemorization, extractionStrength, minKPlusPlusScore, minKScore, optionNormalisedProbs,
} from '../src/index.js';

interface MiaFixture {
  B: number; T: number; V: number; k: number;
  logits: number[]; input_ids: number[]; labels: number[];
  rows: {
    avg_loss: number; prob: number; token_log_probs: number[]; min_k: number; min_k_plus_plus: number;
    exact_memorization: number; extraction_strength: number; labels: number[]; predictions: number[];
  }[];
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/mia.json', import.meta.url), 'utf8')) as MiaFixture;

beforeAll(async () => {
  await initBackend('cpu');
});

describe('answerStatsFromLogits vs open-unlearning (torch)', () => {
  it('gives avg loss, prob, token log-probs, Min-K%, Min-K%++, ES and EM per sample', async () => {
    const before = tf.memory().numTensors;
    const logits = tf.tensor3d(fx.logits, [fx.B, fx.T, fx.V]);
    const labels = tf.tensor2d(fx.labels, [fx.B, fx.T], 'int32');
    const stats = await answerStatsFromLogits(logits, labels, { vocabStats: true });
    tf.dispose([logits, labels]);
    expect(tf.memory().numTensors).toBe(before);
    expect(stats).toHaveLength(fx.B);
    stats.forEach((s, i) => {
      const want = fx.rows[i];
      expect(s.avgLoss).toBeCloseTo(want.avg_loss, 5);
      expect(s.prob).toBeCloseTo(want.prob, 6);
      expect(Array.from(s.labels)).toEqual(want.labels);
      expect(Array.from(s.predictions)).toEqual(want.predictions);
      Array.from(s.tokenLogProbs).forEach((v, t) => expect(v).toBeCloseTo(want.token_log_probs[t], 5));
      expect(minKScore(s.tokenLogProbs, fx.k)).toBeCloseTo(want.min_k, 5);
      expect(minKPlusPlusScore(s.tokenLogProbs, s.vocabMeans!, s.vocabVariances!, fx.k)).toBeCloseTo(want.min_k_plus_plus, 4);
      expect(exactMemorization(s.predictions, s.labels)).toBeCloseTo(want.exact_memorization, 12);
      expect(extractionStrength(s.predictions, s.labels)).toBeCloseTo(want.extraction_strength, 12);
    });
  });

  it('rejects mismatched shapes with a one-line error', async () => {
    const before = tf.memory().numTensors;
    const logits = tf.zeros([2, 3, 5]) as tf.Tensor3D;
    const labels = tf.zeros([2, 4], 'int32') as tf.Tensor2D;
    await expect(answerStatsFromLogits(logits, labels)).rejects.toThrow(/logits are \[2,3,5\] but labels are \[2,4\]/);
    tf.dispose([logits, labels]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('optionNormalisedProbs', () => {
  it('is P(correct) / (P(correct) + Σ P(wrong)) (hand-derived)', () => {
    // 0.5 / (0.5 + 0.2 + 0.3) = 0.5; 0.1 / (0.1 + 0.1 + 0.1 + 0.1) = 0.25
    const p = optionNormalisedProbs([0.5, 0.1], [[0.2, 0.3], [0.1, 0.1, 0.1]]);
    expect(p[0]).toBeCloseTo(0.5, 9);
    expect(p[1]).toBeCloseTo(0.25, 9);
  });
});

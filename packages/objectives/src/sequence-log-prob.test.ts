// Token/sequence log-probs against the PyTorch fixture (CrossEntropyLoss(ignore_index=-100) with the HF shift).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { meanNll, meanSequenceLogProb, sequenceLogProb, tokenCounts } from './index.js';
import { useLeakCheckedBackend } from '@unlearn/test-utils';
import { ToyLM, disposeBatch, fixtureBatch as tokenBatch } from '@unlearn/test-utils';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(here, '../test/fixtures/objectives.json'), 'utf8'));

useLeakCheckedBackend();

describe('sequence log-probs', () => {
  it('meanNll, sequenceLogProb and tokenCounts match PyTorch on a padded, prompt-masked batch', () => {
    const model = new ToyLM(fixture.model);
    for (const part of ['forget', 'retain', 'alternate'] as const) {
      const b = tokenBatch(fixture.batches[part]);
      const v = tf.tidy(() => meanNll(model.forward(b).logits, b.labels).dataSync()[0]);
      expect(v).toBeCloseTo(fixture.nll[part], 5);
      disposeBatch(b);
    }
    const f = tokenBatch(fixture.batches.forget);
    const seq = tf.tidy(() => Array.from(sequenceLogProb(model.forward(f).logits, f.labels).dataSync()));
    seq.forEach((x, i) => expect(x).toBeCloseTo(fixture.sequenceLogProb.forget[i], 5));
    const counts = tf.tidy(() => Array.from(tokenCounts(f.labels).dataSync()));
    expect(counts).toEqual([5, 3, 4]); // shifted labels ≠ -100 per row
    const perToken = tf.tidy(() => Array.from(meanSequenceLogProb(model.forward(f).logits, f.labels).dataSync()));
    perToken.forEach((x, i) => expect(x).toBeCloseTo(fixture.sequenceLogProb.forget[i] / counts[i], 5));
    disposeBatch(f);
    model.dispose();
  });

  it('ignores logits at -100 positions and gives 0 (not NaN) for a batch without labelled tokens', () => {
    tf.tidy(() => {
      const logits = tf.randomNormal([1, 4, 5], 0, 1, 'float32', 3) as Tensor3D;
      const labels = tf.tensor2d([[2, 1, -100, 4]], undefined, 'int32') as Tensor2D;
      // changing the logits at position 1 (which predicts the ignored label at 2) and at the last position changes nothing
      const bump = tf.tensor3d([[[0, 0, 0, 0, 0], [9, -9, 9, -9, 9], [0, 0, 0, 0, 0], [5, 5, -5, 5, 5]]]);
      expect(meanNll(tf.add(logits, bump) as Tensor3D, labels).dataSync()[0]).toBeCloseTo(meanNll(logits, labels).dataSync()[0], 6);
      const none = tf.tensor2d([[-100, -100, -100, -100]], undefined, 'int32') as Tensor2D;
      expect(meanNll(logits, none).dataSync()[0] === 0).toBe(true);
    });
  });

  it('names mismatched shapes', () => {
    tf.tidy(() => {
      expect(() => meanNll(tf.zeros([2, 4, 5]) as Tensor3D, tf.zeros([2, 3], 'int32') as Tensor2D)).toThrowError(
        /^labels shape \[2,3\] does not match logits \[2,4,5\] \(expected \[2,4\]\)$/,
      );
    });
  });
});

import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@unlearn/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeBatch } from './collate.js';
import { IGNORE_INDEX } from '@unlearn/core';
import { encodeQa } from './encode-qa.js';
import { idkAlternates } from './idk-alternates.js';
import { loadIdkAnswers, loadTofuSplit } from './tofu.js';
import { planUnlearnBatches } from './unlearn-batches.js';
import { charTokenizer } from './test-utils/char-tokenizer.js';
import { TOFU_DIR } from './test-utils/shared-data.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('idkAlternates', () => {
  it('keeps the forget questions and draws seeded refusals', async () => {
    const forget = await loadTofuSplit(TOFU_DIR, 'forget01');
    const refusals = await loadIdkAnswers(path.join(TOFU_DIR, 'idontknow.jsonl'));
    const alt = idkAlternates(forget, refusals, 5);
    expect(alt.map((r) => r.question)).toEqual(forget.map((r) => r.question));
    for (const r of alt) expect(refusals).toContain(r.answer);
    expect(idkAlternates(forget, refusals, 5)).toEqual(alt);
    expect(idkAlternates(forget, refusals, 6)).not.toEqual(alt);
    expect(new Set(alt.map((r) => r.answer)).size).toBeGreaterThan(20); // 40 draws from 100 strings
  });
});

describe('planUnlearnBatches', () => {
  const tokenizer = charTokenizer();

  it('pairs each forget batch with a cycling, reshuffled retain batch and aligned alternates', async () => {
    const forgetRows = (await loadTofuSplit(TOFU_DIR, 'forget01')).slice(0, 10);
    const retainRows = (await loadTofuSplit(TOFU_DIR, 'retain99')).slice(0, 7);
    const refusals = await loadIdkAnswers(path.join(TOFU_DIR, 'idontknow.jsonl'));
    const forget = (await encodeQa(tokenizer, forgetRows)).examples;
    const retain = (await encodeQa(tokenizer, retainRows)).examples;
    // Alternates in reverse order: they are matched by row, not by position.
    const alternate = (await encodeQa(tokenizer, idkAlternates(forgetRows, refusals, 1))).examples.reverse();

    const plan = planUnlearnBatches({ forget, retain, alternate, batchSize: 4, retainBatchSize: 3, epochs: 2, seed: 9, padTokenId: 0 });
    // 10 forget rows / 4 = 3 batches per epoch × 2 epochs.
    expect(plan.steps).toBe(6);
    expect(plan.forgetIndices.slice(0, 3).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(plan.forgetIndices.slice(3).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 7 retain rows / 3 = 3 batches per pass: steps 0-2 are pass 0, steps 3-5 pass 1, each a permutation.
    expect(plan.retainIndices).toHaveLength(6);
    for (const pass of [plan.retainIndices.slice(0, 3), plan.retainIndices.slice(3)]) {
      expect(pass.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
    expect(plan.retainIndices.slice(3)).not.toEqual(plan.retainIndices.slice(0, 3));
    expect(plan.paddingFraction.retain).toBeGreaterThanOrEqual(0);
    expect(plan.paddingFraction.alternate).toBeGreaterThanOrEqual(0);

    const before = tf.memory().numTensors;
    for (let step = 0; step < plan.steps; step++) {
      const batch = plan.batch(step);
      const rows = plan.forgetIndices[step];
      expect(batch.forget.inputIds.shape[0]).toBe(rows.length);
      expect(batch.retain?.inputIds.shape[0]).toBe(plan.retainIndices[step].length);
      // The alternate row b answers the same question as forget row b: same prompt tokens.
      const forgetIds = (await batch.forget.inputIds.array()) as number[][];
      const forgetLabels = (await batch.forget.labels.array()) as number[][];
      const altIds = (await batch.alternate!.inputIds.array()) as number[][];
      const altLabels = (await batch.alternate!.labels.array()) as number[][];
      for (let b = 0; b < rows.length; b++) {
        const promptLength = forgetLabels[b].findIndex((l) => l !== IGNORE_INDEX);
        expect(altIds[b].slice(0, promptLength)).toEqual(forgetIds[b].slice(0, promptLength));
        expect(altLabels[b].findIndex((l) => l !== IGNORE_INDEX)).toBe(promptLength);
        expect(forgetIds[b].slice(0, forget[rows[b]].inputIds.length)).toEqual(forget[rows[b]].inputIds);
      }
      disposeBatch(batch);
    }
    expect(tf.memory().numTensors).toBe(before);

    const again = planUnlearnBatches({ forget, retain, alternate, batchSize: 4, retainBatchSize: 3, epochs: 2, seed: 9, padTokenId: 0 });
    expect(again.forgetIndices).toEqual(plan.forgetIndices);
    expect(again.retainIndices).toEqual(plan.retainIndices);
  });

  it('forget only; a missing alternate is an error', async () => {
    const forgetRows = (await loadTofuSplit(TOFU_DIR, 'forget01')).slice(0, 3);
    const forget = (await encodeQa(tokenizer, forgetRows)).examples;
    const plan = planUnlearnBatches({ forget, batchSize: 2, padTokenId: 0 });
    expect(plan.steps).toBe(2);
    expect(plan.retainIndices).toEqual([]);
    const before = tf.memory().numTensors;
    const batch = plan.batch(0);
    expect(batch.retain).toBeUndefined();
    expect(batch.alternate).toBeUndefined();
    disposeBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => planUnlearnBatches({ forget, alternate: forget.slice(1), batchSize: 2, padTokenId: 0 })).toThrow(
      'planUnlearnBatches: forget example 0 (row 0) has no alternate with the same row',
    );
  });
});

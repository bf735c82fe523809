import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type TransformerLM } from './index.js';
import { meanNll, STORIES_DIR, useTestBackend } from './test-utils/setup.js';

interface Reference {
  prompts: { input_ids_with_bos: number[]; last_position_logits_first8: number[]; last_position_argmax: number; mean_nll_of_prompt_tokens: number }[];
  teacher_forced: { ids: number[]; mean_nll_nats: number };
}
const reference = JSON.parse(readFileSync(path.join(STORIES_DIR, 'reference_outputs.json'), 'utf8')) as Reference;

describe('Llama on stories260K (llama2.c reference values)', () => {
  let model: TransformerLM;
  let before: number;
  beforeAll(async () => {
    await useTestBackend();
    before = tf.memory().numTensors;
    model = await loadModel(STORIES_DIR);
  });
  afterAll(() => {
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(reference.prompts.map((p, i) => [i, p] as const))('prompt %i: last-position logits and mean NLL match to 1e-4', async (_i, p) => {
    const start = tf.memory().numTensors;
    const ids = tf.tensor2d([p.input_ids_with_bos], undefined, 'int32');
    const { logits } = model.forward({ inputIds: ids });
    const values = (await logits.data()) as Float32Array;
    const V = model.config.vocab_size;
    const T = p.input_ids_with_bos.length;
    const last = Array.from(values.subarray((T - 1) * V, T * V));
    for (let j = 0; j < 8; j++) expect(last[j]).toBeCloseTo(p.last_position_logits_first8[j], 4);
    expect(last.indexOf(Math.max(...last))).toBe(p.last_position_argmax);
    expect(meanNll(values, V, p.input_ids_with_bos)).toBeCloseTo(p.mean_nll_of_prompt_tokens, 4);
    tf.dispose([ids, logits]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('teacher-forced mean NLL of the reference story matches to 1e-4', async () => {
    const start = tf.memory().numTensors;
    const t = reference.teacher_forced;
    const ids = tf.tensor2d([t.ids], undefined, 'int32');
    const { logits } = model.forward({ inputIds: ids });
    expect(meanNll((await logits.data()) as Float32Array, model.config.vocab_size, t.ids)).toBeCloseTo(t.mean_nll_nats, 4);
    tf.dispose([ids, logits]);
    expect(tf.memory().numTensors).toBe(start);
  });
});

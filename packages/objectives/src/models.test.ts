// The objectives on real models from @unlearn/models: gradient ascent unlearns a story the pretrained stories260K
// Llama knows, and every objective runs forward + backward on a tiny random Llama.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { get } from '@unlearn/core';
import type { CausalLM, TokenBatch, UnlearnBatch } from '@unlearn/core';
import { createModel, loadModel } from '@unlearn/models';
import { describe, expect, it } from 'vitest';
import { batchNll } from './index.js';
import { STORIES260K_DIR as STORIES_DIR, useLeakCheckedBackend } from '@unlearn/test-utils';
import { disposeBatch } from '@unlearn/test-utils';

useLeakCheckedBackend();

function batchOf(ids: number[][], attention: number[][], labels: number[][]): TokenBatch {
  return {
    inputIds: tf.tensor2d(ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(attention, undefined, 'int32'),
    labels: tf.tensor2d(labels, undefined, 'int32'),
  };
}

/** Plain SGD on the objective's loss: θ ← θ − lr·∇L. Returns the loss before the step. */
function sgdStep(model: CausalLM, lossFn: () => tf.Scalar, lr: number): number {
  const vars = [...model.params.values()].filter((v) => v.trainable);
  const { value, grads } = tf.variableGrads(lossFn, vars);
  const loss = value.dataSync()[0];
  tf.tidy(() => {
    for (const v of vars) if (grads[v.name]) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
  });
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}

describe('GA on the pretrained stories260K Llama', () => {
  it('raises the NLL of the story it is asked to forget, step after step', async () => {
    const story = JSON.parse(readFileSync(path.join(STORIES_DIR, 'reference_outputs.json'), 'utf8')).teacher_forced as {
      ids: number[];
      mean_nll_nats: number;
    };
    const model = await loadModel(STORIES_DIR);
    const ids = story.ids;
    const forget = batchOf([ids], [ids.map(() => 1)], [ids]);
    const nll = () => tf.tidy(() => batchNll(model, forget).dataSync()[0]);
    // Our meanNll on the real model reproduces llama2.c's teacher-forced value.
    expect(nll()).toBeCloseTo(story.mean_nll_nats, 4);

    const ga = get('objective', 'ga')({});
    const history = [nll()];
    for (let step = 0; step < 4; step++) {
      sgdStep(model, () => (ga.loss(model, { forget }, { step }) as { loss: tf.Scalar }).loss, 0.05);
      history.push(nll());
    }
    console.log(`GA on stories260K, forget NLL per step: ${history.map((x) => x.toFixed(4)).join(" → ")}`);
    for (let i = 1; i < history.length; i++) expect(history[i], `NLL after step ${i}: ${history}`).toBeGreaterThan(history[i - 1]);
    expect(history[history.length - 1]).toBeGreaterThan(2 * history[0]);
    disposeBatch(forget);
    model.dispose();
  });
});

describe('every objective on a tiny Llama from createModel', () => {
  const config = {
    model_type: 'llama', vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2,
    num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 32, rms_norm_eps: 1e-5,
    rope_theta: 10000, tie_word_embeddings: false,
  };
  const P = -100;
  const unlearnBatch = (): UnlearnBatch => ({
    // right padding (pad id 0) and a prompt masked with -100
    forget: batchOf(
      [[1, 5, 9, 12, 7, 3], [1, 8, 4, 2, 0, 0]],
      [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]],
      [[P, P, 9, 12, 7, 3], [P, 8, 4, 2, P, P]],
    ),
    retain: batchOf([[1, 20, 21, 22, 23], [1, 30, 31, 0, 0]], [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], [[P, 20, 21, 22, 23], [P, 30, 31, P, P]]),
    alternate: batchOf([[1, 5, 33, 34, 35], [1, 8, 33, 34, 0]], [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], [[P, P, 33, 34, 35], [P, P, 33, 34, P]]),
  });
  const cases: [string, Record<string, unknown>][] = [
    ['ga', {}], ['graddiff', {}], ['kl', {}], ['npo', {}], ['simnpo', {}], ['idk', {}], ['idkdpo', {}],
    ['rmu', { layer: 1, steeringCoeff: 5, retainWeight: 1 }],
  ];

  it.each(cases)('%s: finite loss, finite gradients, and a small step along −∇ lowers the loss', (name, options) => {
    const model = createModel(config, { seed: 1 });
    const reference = createModel(config, { seed: 2, trainable: false });
    const batch = unlearnBatch();
    const objective = get('objective', name)(options);
    const lossFn = () => (objective.loss(model, batch, { reference, step: 0 }) as { loss: tf.Scalar }).loss;

    const vars = [...model.params.values()];
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const loss0 = value.dataSync()[0];
    expect(Number.isFinite(loss0)).toBe(true);
    let sq = 0;
    for (const v of vars) {
      const g = grads[v.name];
      if (!g) continue;
      for (const x of g.dataSync()) {
        expect(Number.isFinite(x)).toBe(true);
        sq += x * x;
      }
    }
    expect(sq).toBeGreaterThan(0);
    // Every parameter on the path gets a gradient: all of them, except for RMU (layers above the steered one, norm, head).
    const withGrad = vars.filter((v) => grads[v.name]).length;
    if (name === 'rmu') expect(withGrad).toBeLessThan(vars.length);
    else expect(withGrad).toBe(vars.length);
    tf.dispose([value, ...Object.values(grads)]);

    const lr = 1e-3 / Math.sqrt(sq);
    sgdStep(model, lossFn, lr);
    const loss1 = tf.tidy(() => lossFn().dataSync()[0]);
    expect(loss1, `${name}: ${loss0} → ${loss1}`).toBeLessThan(loss0);

    for (const b of Object.values(batch)) disposeBatch(b as TokenBatch);
    model.dispose();
    reference.dispose();
  });
});

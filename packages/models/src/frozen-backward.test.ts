// Frozen weights cost nothing in backward: tfjs prunes tape inputs that do not depend on the differentiated variables,
// and matMul's gradient is lazy per input, so with only LoRA adapters trainable no dW = dyᵀ·x is ever computed for a
// frozen weight. Checked on the kernels a backward pass actually runs (tf.profile), with full training as the control.
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLora, loadModel, type TransformerLM } from './index.js';
import { FIXTURES_DIR, useTestBackend } from './test-utils/setup.js';

async function weightShapedMatmuls(model: TransformerLM, frozen: Set<string>): Promise<{ total: number; weightShaped: number }> {
  const vars = [...model.params.values()].filter((v) => v.trainable);
  const ids = tf.tensor2d([[1, 5, 9, 13, 17, 21, 25, 29, 33, 2]], undefined, 'int32'); // 10 rows: no activation is weight-shaped
  const prof = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward({ inputIds: ids }).logits)) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
  });
  ids.dispose();
  const mm = prof.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul');
  const shaped = mm.filter((k) => frozen.has((k.outputShapes[0] ?? []).slice(-2).join("x")));
  return { total: mm.length, weightShaped: shaped.length };
}

describe('backward with frozen weights', () => {
  it('computes no gradient for a frozen weight (LoRA: adapters only), but does for trainable ones (control)', async () => {
    await useTestBackend();
    const start = tf.memory().numTensors;
    const base = await loadModel(path.join(FIXTURES_DIR, 'lora-tiny'));
    const shapes = new Set([...base.params.values()].filter((v) => v.rank === 2).map((v) => v.shape.join('x')));
    const full = await weightShapedMatmuls(base, shapes);
    expect(full.weightShaped).toBeGreaterThanOrEqual(2 * 7 + 1); // 7 projections per layer + the LM head
    const lora = applyLora(base, { r: 2, targets: ['q_proj', 'v_proj'] });
    const adapters = await weightShapedMatmuls(lora, shapes);
    expect(adapters.total).toBeGreaterThan(0);
    expect(adapters.weightShaped).toBe(0);
    lora.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadModel, loraOf, type TransformerLM } from './index.js';
import { FIXTURES_DIR, useTestBackend } from './test-utils/setup.js';

const rows = [[1, 5, 9, 13, 17, 21, 25, 29, 33, 2], [1, 30, 7, 3, 11, 12, 2, 2, 2, 2]];

/** Mean NLL of next tokens of a 2-row batch (second row right-padded). */
function nll(model: TransformerLM): tf.Scalar {
  const ids = tf.tensor2d(rows, undefined, 'int32');
  const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]], undefined, 'int32');
  const { logits } = model.forward({ inputIds: ids, attentionMask: mask });
  const V = logits.shape[2];
  const lp = tf.logSoftmax(tf.reshape(tf.slice(logits, [0, 0, 0], [2, 9, V]), [18, V]));
  const picked = tf.sum(tf.mul(lp, tf.oneHot(tf.reshape(tf.slice(ids, [0, 1], [2, 9]), [18]), V)), 1);
  const w = tf.reshape(tf.cast(tf.slice(mask, [0, 1], [2, 9]), 'float32'), [18]);
  return tf.div(tf.neg(tf.sum(tf.mul(picked, w))), tf.sum(w)) as tf.Scalar;
}

async function gradients(model: TransformerLM): Promise<Map<string, Float32Array>> {
  const vars = [...model.params].filter(([, v]) => v.trainable);
  const { value, grads } = tf.variableGrads(() => nll(model), vars.map(([, v]) => v));
  const out = new Map<string, Float32Array>();
  for (const [name, v] of vars) out.set(name, (await grads[v.name].data()) as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

function expectSame(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name)!;
    let diff = 0, scale = 1e-8;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(y[i]));
    }
    expect(diff / scale, name).toBeLessThan(1e-5);
  }
}

describe('gradientCheckpointing (per-layer recompute in backward)', () => {
  beforeAll(useTestBackend);

  it.each(['mistral-tiny', 'gpt2-tiny'])('%s: every parameter gradient equals the plain backward', async (fixture) => {
    const start = tf.memory().numTensors;
    const model = await loadModel(path.join(FIXTURES_DIR, fixture));
    if (fixture === 'gpt2-tiny') for (const row of rows) row.forEach((t, i) => (row[i] = t % 200));
    const plain = await gradients(model);
    model.gradientCheckpointing = true;
    const checkpointed = await gradients(model);
    expect(checkpointed.size).toBe(model.params.size);
    expectSame(checkpointed, plain);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('LoRA adapters: checkpointed adapter gradients equal the plain ones; only adapters get gradients', async () => {
    const start = tf.memory().numTensors;
    const base = await loadModel(path.join(FIXTURES_DIR, 'lora-tiny'));
    const model = applyLora(base, { r: 2, targets: ['q_proj', 'v_proj', 'up_proj'], seed: 4 });
    for (const [name, v] of model.params) if (name.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 9)));
    const plain = await gradients(model);
    model.gradientCheckpointing = true;
    expectSame(await gradients(model), plain);
    expect([...plain.keys()].every((n) => n.includes('.lora_'))).toBe(true);
    // dropout draws differ between the forward and the recompute: refused with one line
    const dropped = applyLora(base.view(null), { r: 2, dropout: 0.1, targets: ['q_proj'] });
    dropped.gradientCheckpointing = true;
    loraOf(dropped)!.training = true;
    expect(() => tf.tidy(() => nll(dropped))).toThrow(/gradientCheckpointing recomputes each layer, so it cannot be combined with adapter dropout/);
    dropped.dispose();
    dropped.base!.dispose();
    model.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('frozenCopy shares weights', () => {
  // tf.memory().numBytes counts every tensor object, shared or not; numDataBuffers counts the buffers actually held
  it('a full model\'s frozen copy allocates no new weight buffer until the original changes', async () => {
    await useTestBackend();
    const model = await loadModel(path.join(FIXTURES_DIR, 'lora-tiny'));
    const buffers = tf.memory().numDataBuffers;
    const copy = model.frozenCopy();
    // three new buffers: the copy's own RoPE tables (cos, sin) and rotate_half matrix; none for its 21 weights
    expect(tf.memory().numDataBuffers).toBe(buffers + 3);
    const w = model.params.get('model.layers.0.mlp.up_proj.weight')!;
    tf.tidy(() => w.assign(tf.add(w, 1)));
    expect(tf.memory().numDataBuffers).toBe(buffers + 4);
    expect((await copy.params.get('model.layers.0.mlp.up_proj.weight')!.data())[0]).toBeCloseTo((await w.data())[0] - 1, 5);
    copy.dispose();
    model.dispose();
  });
});

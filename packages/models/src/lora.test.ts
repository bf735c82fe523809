import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors } from '@unlearn/tensors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLora, loadLora, loadModel, loraOf, mergeLora, saveLora, saveModel, type TransformerLM } from './index.js';
import { FIXTURES_DIR, useTestBackend } from './test-utils/setup.js';

const DIR = path.join(FIXTURES_DIR, 'lora-tiny');
interface Golden {
  rows: number[][];
  loss: number;
  logits: number[][];
  base_logits: number[][];
  grads: Record<string, number[]>;
  merged: Record<string, number[]>;
}
const golden = JSON.parse(readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Golden;

/** max |a − b| / (max |b| + 1e-6): relative to the tensor's scale, so tiny entries do not dominate. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / (scale + 1e-6);
}

async function rowLogits(model: TransformerLM, row: number[]): Promise<Float32Array> {
  const ids = tf.tensor2d([row], undefined, 'int32');
  const { logits } = model.forward({ inputIds: ids });
  const out = (await logits.data()) as Float32Array;
  tf.dispose([ids, logits]);
  return out;
}

/** Mean next-token NLL over both rows (each run unpadded): the golden's loss. */
function loss(model: TransformerLM, rows: number[][]): tf.Scalar {
  const count = rows.reduce((n, r) => n + r.length - 1, 0);
  const parts = rows.map((r) => {
    const { logits } = model.forward({ inputIds: tf.tensor2d([r], undefined, 'int32') });
    const lp = tf.logSoftmax(tf.reshape(tf.slice(logits, [0, 0, 0], [1, r.length - 1, -1]), [r.length - 1, -1]));
    return tf.neg(tf.sum(tf.mul(lp, tf.oneHot(r.slice(1), logits.shape[2]))));
  });
  return tf.div(tf.addN(parts), count) as tf.Scalar;
}

describe('LoRA against a hand-written PyTorch LoRA (test/fixtures/make_lora_golden.py)', () => {
  let base: TransformerLM;
  let model: TransformerLM;
  let before: number;
  beforeAll(async () => {
    await useTestBackend();
    before = tf.memory().numTensors;
    base = await loadModel(DIR);
    model = await loadLora(base, path.join(DIR, 'adapter'));
  });
  afterAll(() => {
    model.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('only the adapters are trainable; PEFT key names map to module paths', () => {
    const trainable = [...model.params].filter(([, v]) => v.trainable).map(([n]) => n).sort();
    expect(trainable).toEqual(Object.keys(golden.grads).sort());
    expect(trainable).toContain('model.layers.1.mlp.down_proj.lora_B.weight');
    expect(loraOf(model)!.scaling).toBe(2);
  });

  it('forward logits match PyTorch to 1e-5 (relative); adapters off and frozenCopy() give the base logits', async () => {
    const start = tf.memory().numTensors;
    const reference = model.frozenCopy() as TransformerLM;
    for (const [i, row] of golden.rows.entries()) {
      expect(relErr(await rowLogits(model, row), golden.logits[i])).toBeLessThan(1e-5);
      expect(relErr(await rowLogits(reference, row), golden.base_logits[i])).toBeLessThan(1e-5);
      loraOf(model)!.enabled = false;
      expect(relErr(await rowLogits(model, row), golden.base_logits[i])).toBeLessThan(1e-5);
      loraOf(model)!.enabled = true;
    }
    reference.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('loss and adapter gradients match PyTorch (gradients to 1e-4 relative); no base weight gets a gradient', async () => {
    const start = tf.memory().numTensors;
    const trainable = [...model.params].filter(([, v]) => v.trainable);
    const { value, grads } = tf.variableGrads(() => loss(model, golden.rows), trainable.map(([, v]) => v));
    expect(await value.data()).toHaveLength(1);
    expect((await value.data())[0]).toBeCloseTo(golden.loss, 5);
    expect(Object.keys(grads)).toHaveLength(trainable.length);
    for (const [name, v] of trainable) expect(relErr(await grads[v.name].data(), golden.grads[name]), name).toBeLessThan(1e-4);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('mergeLora gives W + (α/r)·B·A as PyTorch computes it, and the merged plain model reproduces the adapted logits', async () => {
    const start = tf.memory().numTensors;
    const merged = mergeLora(model);
    expect(merged.adapter).toBeNull();
    for (const [name, want] of Object.entries(golden.merged)) expect(relErr(await merged.params.get(name)!.data(), want), name).toBeLessThan(1e-6);
    for (const [i, row] of golden.rows.entries()) expect(relErr(await rowLogits(merged, row), golden.logits[i])).toBeLessThan(1e-5);
    // the untouched weights are the base's values
    expect(Array.from(await merged.params.get('model.layers.0.self_attn.k_proj.weight')!.data()))
      .toEqual(Array.from(await base.params.get('model.layers.0.self_attn.k_proj.weight')!.data()));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lora-merged-'));
    try {
      await saveModel(merged, dir);
      const reloaded = await loadModel(dir);
      for (const [name, v] of merged.params) expect(Array.from(await reloaded.params.get(name)!.data()), name).toEqual(Array.from(await v.data()));
      reloaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    merged.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('applyLora, saveLora, loadLora', () => {
  let base: TransformerLM;
  let before: number;
  beforeAll(async () => {
    await useTestBackend();
    before = tf.memory().numTensors;
    base = await loadModel(DIR);
  });
  afterAll(() => {
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fresh adapters: B = 0, A ~ U(±1/√in) seeded, logits equal the base; regex targets are full matches', async () => {
    const start = tf.memory().numTensors;
    const m = applyLora(base, { r: 2, alpha: 4, targets: 'model\\.layers\\.1\\.self_attn\\.(q|k)_proj', seed: 3 });
    expect(loraOf(m)!.targetModules).toEqual(['model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.k_proj']);
    const a = await m.params.get('model.layers.1.self_attn.q_proj.lora_A.weight')!.data();
    expect(a).toHaveLength(2 * 16);
    expect(Math.max(...Array.from(a, Math.abs))).toBeLessThanOrEqual(1 / 4);
    expect(new Set(a).size).toBe(a.length);
    expect(Array.from(await m.params.get('model.layers.1.self_attn.q_proj.lora_B.weight')!.data()).every((v) => v === 0)).toBe(true);
    const again = applyLora(base.view(null), { r: 2, alpha: 4, targets: 'model\\.layers\\.1\\.self_attn\\.(q|k)_proj', seed: 3 });
    expect(Array.from(await again.params.get('model.layers.1.self_attn.q_proj.lora_A.weight')!.data())).toEqual(Array.from(a));
    again.dispose();
    again.base!.dispose();
    for (const [i, row] of golden.rows.entries()) expect(relErr(await rowLogits(m, row), golden.base_logits[i])).toBeLessThan(1e-5);
    m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('saves PEFT files and loads them back bit-exact', async () => {
    const start = tf.memory().numTensors;
    const m = applyLora(base, { r: 3, alpha: 6, dropout: 0.1, targets: ['v_proj', 'o_proj'], seed: 1 });
    for (const [name, v] of m.params) if (name.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 7)));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lora-adapter-'));
    try {
      await saveLora(m, dir, { baseModel: DIR });
      const config = JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
      expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 3, lora_alpha: 6, lora_dropout: 0.1, target_modules: ['v_proj', 'o_proj'], bias: 'none', base_model_name_or_path: DIR });
      const { tensors } = await readSafetensors(path.join(dir, 'adapter_model.safetensors'));
      expect([...tensors.keys()].sort()).toContain('base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight');
      expect(tensors.get('base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight')!.shape).toEqual([16, 3]);
      expect(tensors.size).toBe(8);
      tf.dispose([...tensors.values()]);
      const loaded = await loadLora(base.view(null), dir);
      for (const [name, v] of m.params) expect(Array.from(await loaded.params.get(name)!.data()), name).toEqual(Array.from(await v.data()));
      expect(loraOf(loaded)!.settings).toMatchObject({ r: 3, alpha: 6, dropout: 0.1 });
      loaded.dispose();
      loaded.base!.dispose();
      // a damaged folder fails with one line naming the file
      writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ ...config, r: 4 }));
      await expect(loadLora(base, dir)).rejects.toThrow(/adapter_model\.safetensors: tensor ".*lora_A\.weight" has shape \[3,16\], expected \[4,16\]/);
      writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ ...config, use_dora: true }));
      await expect(loadLora(base, dir)).rejects.toThrow(/adapter_config\.json: use_dora: DoRA adapters are not supported/);
      expect(existsSync(path.join(dir, 'adapter_model.safetensors'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('targets that match nothing fail with one line listing the layers', () => {
    expect(() => applyLora(base, { targets: ['qkv'] })).toThrow(/lora: target modules \["qkv"\] match no linear layer of this llama model \(its layers: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj\)/);
  });

  it('dropout applies only while training', async () => {
    const start = tf.memory().numTensors;
    const m = applyLora(base, { r: 2, dropout: 0.5, targets: ['q_proj'] });
    for (const [name, v] of m.params) if (name.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', 2)));
    const row = golden.rows[0];
    const evalA = await rowLogits(m, row), evalB = await rowLogits(m, row);
    expect(Array.from(evalA)).toEqual(Array.from(evalB));
    loraOf(m)!.training = true;
    expect(relErr(await rowLogits(m, row), evalA)).toBeGreaterThan(1e-3);
    m.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('LoRA on GPT-2 (Conv1D weights [in, out], fan_in_fan_out)', () => {
  it('merged weights reproduce the adapted logits', async () => {
    await useTestBackend();
    const start = tf.memory().numTensors;
    const base = await loadModel(path.join(FIXTURES_DIR, 'gpt2-tiny'));
    const m = applyLora(base, { r: 2, alpha: 2, targets: ['c_attn', 'c_fc'] });
    for (const [name, v] of m.params) if (name.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 5)));
    const row = [116, 257, 259, 97, 116];
    const adapted = await rowLogits(m, row);
    expect(relErr(adapted, await rowLogits(base, row))).toBeGreaterThan(1e-3);
    const merged = mergeLora(m);
    expect(relErr(await rowLogits(merged, row), adapted)).toBeLessThan(1e-5);
    merged.dispose();
    m.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

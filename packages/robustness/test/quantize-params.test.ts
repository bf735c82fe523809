// quantizeParams on a real model: Linear weights replaced by their round trip, embeddings and norms untouched, the
// identity quantizer changes nothing (so Q = 1 on every metric), no tensors leak.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, loadModel } from '@unlearn/models';
import { STORIES260K_DIR, useTestBackend } from '@unlearn/test-utils';
import { quantizableParams, quantizeParams, quantizeWeight, quantizationScore } from '../src/index.js';

beforeAll(() => useTestBackend());

describe('quantizeParams', () => {
  it('int8 / nf4 round trips the Linear weights only; identity leaves every bit', async () => {
    const model = await loadModel(STORIES260K_DIR, { trainable: false });
    const before = tf.memory().numTensors;
    try {
      const names = quantizableParams(model.params);
      expect(names).toHaveLength(5 * 7); // q, k, v, o, gate, up, down per layer
      expect(names.some((n) => n.includes('embed_tokens') || n.includes('norm'))).toBe(false);
      expect(quantizableParams(model.params, { includeEmbeddings: true })).toContain('model.embed_tokens.weight');

      const snapshot = new Map<string, Float32Array>();
      for (const [k, v] of model.params) snapshot.set(k, (await v.data()) as Float32Array);
      const id = await quantizeParams(model.params, { method: 'identity' });
      expect(id).toMatchObject({ method: 'identity', tensors: 35, maxAbsError: 0 });
      for (const [k, v] of model.params) expect((await v.data()) as Float32Array, k).toEqual(snapshot.get(k));
      // identity → every metric is unchanged → Q = 1
      expect(quantizationScore(0.42, 0.42)).toBe(1);

      const r = await quantizeParams(model.params, { method: 'nf4' });
      expect(r.method).toBe('nf4-b64');
      expect(r.weights).toBe(names.reduce((s, n) => s + model.params.get(n)!.size, 0));
      const q = 'model.layers.0.self_attn.q_proj.weight';
      const expected = quantizeWeight({ values: snapshot.get(q)!, rows: 64, cols: 64 }, { method: 'nf4' }).dequantized;
      expect((await model.params.get(q)!.data()) as Float32Array).toEqual(expected);
      expect((await model.params.get('model.embed_tokens.weight')!.data()) as Float32Array).toEqual(snapshot.get('model.embed_tokens.weight'));
      expect(r.maxAbsError).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it("GPT-2's Conv1D weights ([in, out]) are quantized per output column", async () => {
    const model = createModel({ model_type: 'gpt2', vocab_size: 40, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2 }, { seed: 3 });
    try {
      const before = tf.memory().numTensors;
      const name = 'transformer.h.0.attn.c_attn.weight';
      const v = model.params.get(name)!;
      expect(v.shape).toEqual([8, 24]);
      const t = tf.transpose(v);
      const outByIn = (await t.data()) as Float32Array;
      t.dispose();
      await quantizeParams(model.params, { method: 'int8' });
      const expected = quantizeWeight({ values: outByIn, rows: 24, cols: 8 }, { method: 'int8' }).dequantized;
      const back = tf.transpose(v);
      expect((await back.data()) as Float32Array).toEqual(expected);
      back.dispose();
      expect(quantizableParams(model.params)).not.toContain('transformer.wte.weight');
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });
});


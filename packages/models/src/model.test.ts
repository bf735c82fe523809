import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, disposeCache, type TransformerLM } from './index.js';
import { useTestBackend } from './test-utils/setup.js';

const llamaConfig = {
  model_type: 'llama', vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3,
  num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 8, initializer_range: 0.3,
};
const gpt2Config = { model_type: 'gpt2', vocab_size: 40, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 16, initializer_range: 0.3 };

const maxAbsDiff = async (a: tf.Tensor, b: tf.Tensor) => {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0];
  d.dispose();
  return v;
};

describe.each([['llama', llamaConfig], ['gpt2', gpt2Config]] as const)('%s (random init)', (family, config) => {
  beforeAll(useTestBackend);

  it('createModel: seed 0 (and the default seed) is a seed — two models are bit-identical, parameter 0 included', async () => {
    // tfjs seeds randomNormal with `seed ? seed : Math.random()`: a stream seed of 0 used to be random on every call
    const before = tf.memory().numTensors;
    const a = createModel(config, { seed: 0 });
    const b = createModel(config, { seed: 0 });
    const d = createModel(config);
    for (const [name, v] of a.params) {
      const x = (await v.data()) as Float32Array;
      expect(Buffer.from(x.buffer).equals(Buffer.from(((await b.params.get(name)!.data()) as Float32Array).buffer)), name).toBe(true);
      expect(Buffer.from(x.buffer).equals(Buffer.from(((await d.params.get(name)!.data()) as Float32Array).buffer)), name).toBe(true);
    }
    expect(() => createModel(config, { seed: 0.5 })).toThrow('createModel: seed must be an integer, got 0.5');
    for (const m of [a, b, d]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('createModel: HF init (unit norms, std initializer_range), same seed → identical params, other seed → different', async () => {
    const before = tf.memory().numTensors;
    const a = createModel(config, { seed: 3 });
    const b = createModel(config, { seed: 3 });
    const c = createModel(config, { seed: 4 });
    expect(a.family).toBe(family);
    for (const [name, v] of a.params) {
      expect(await maxAbsDiff(v, b.params.get(name)!)).toBe(0);
      const data = (await v.data()) as Float32Array;
      if (/norm\.weight$|ln_.\.weight$/.test(name)) expect([...data].every((x) => x === 1)).toBe(true);
      else if (name.endsWith('.bias')) expect([...data].every((x) => x === 0)).toBe(true);
      else {
        expect(await maxAbsDiff(v, c.params.get(name)!)).toBeGreaterThan(0);
        const std = Math.sqrt(data.reduce((s, x) => s + x * x, 0) / data.length);
        const want = name.endsWith('c_proj.weight') ? 0.3 / Math.sqrt(2 * 2) : 0.3; // GPT-2 scales residual projections
        expect(Math.abs(std - want) / want).toBeLessThan(data.length > 500 ? 0.12 : 0.35);
      }
    }
    [a, b, c].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hiddenStates: L+1 residual-stream tensors; index 0 is the token embedding', async () => {
    const before = tf.memory().numTensors;
    const model = createModel(config, { seed: 1 });
    const ids = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]], undefined, 'int32') as Tensor2D;
    const { logits, hiddenStates } = model.forward({ inputIds: ids }, { hiddenStates: true });
    expect(logits.shape).toEqual([2, 4, 40]);
    expect(hiddenStates).toHaveLength(model.numLayers + 1);
    hiddenStates!.forEach((h) => expect(h.shape).toEqual([2, 4, 16]));
    const embedName = family === 'llama' ? 'model.embed_tokens.weight' : 'transformer.wte.weight';
    const embedded = tf.gather(model.params.get(embedName)!, ids);
    if (family === 'llama') expect(await maxAbsDiff(hiddenStates![0], embedded)).toBe(0);
    else {
      const withPositions = tf.tidy(() => tf.add(embedded, tf.slice(model.params.get('transformer.wpe.weight')!, [0, 0], [4, 16])));
      expect(await maxAbsDiff(hiddenStates![0], withPositions)).toBeLessThan(1e-6);
      withPositions.dispose();
    }
    const plain = model.forward({ inputIds: ids });
    expect(plain.hiddenStates).toBeUndefined();
    expect(await maxAbsDiff(plain.logits, logits)).toBe(0);
    tf.dispose([ids, logits, embedded, plain.logits, ...hiddenStates!]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('causal: changing a later token leaves earlier logits unchanged', async () => {
    const before = tf.memory().numTensors;
    const model = createModel(config, { seed: 2 });
    const a = tf.tensor2d([[3, 1, 4, 1, 5, 9]], undefined, 'int32') as Tensor2D;
    const b = tf.tensor2d([[3, 1, 4, 1, 7, 7]], undefined, 'int32') as Tensor2D;
    const la = model.forward({ inputIds: a }).logits;
    const lb = model.forward({ inputIds: b }).logits;
    const first = (l: tf.Tensor) => tf.slice(l, [0, 0, 0], [1, 4, 40]);
    const [fa, fb] = [first(la), first(lb)];
    expect(await maxAbsDiff(fa, fb)).toBe(0);
    expect(await maxAbsDiff(la, lb)).toBeGreaterThan(1e-3);
    tf.dispose([a, b, la, lb, fa, fb]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('KV-cache steps reproduce the full forward, position by position', async () => {
    const before = tf.memory().numTensors;
    const model = createModel(config, { seed: 5 });
    const seq = [[2, 7, 1, 8, 2, 8, 1, 8], [0, 0, 3, 1, 4, 1, 5, 9]];
    const mask = [[1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1, 1]];
    const ids = tf.tensor2d(seq, undefined, 'int32') as Tensor2D;
    const m = tf.tensor2d(mask, undefined, 'int32') as Tensor2D;
    const full = model.forward({ inputIds: ids, attentionMask: m }).logits;
    // prefill 5 tokens, then 3 single-token steps
    let out = model.step({ inputIds: tf.slice(ids, [0, 0], [2, 5]), attentionMask: tf.slice(m, [0, 0], [2, 5]) }, { useCache: true });
    const pieces = [out.logits];
    for (let t = 5; t < 8; t++) {
      const next = model.step({ inputIds: tf.slice(ids, [0, t], [2, 1]), attentionMask: tf.slice(m, [0, 0], [2, t + 1]) }, { cache: out.cache });
      disposeCache(out.cache);
      out = next;
      pieces.push(next.logits);
    }
    disposeCache(out.cache);
    const stitched = tf.concat(pieces, 1);
    expect(await maxAbsDiff(stitched, full)).toBeLessThan(1e-5);
    tf.dispose([ids, m, full, stitched, ...pieces]);
    model.dispose();
    // the slices fed to step() above were created outside any tidy: count only what the model must free
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 8);
  });

  it('frozenCopy is independent, non-trainable and computes the same logits', async () => {
    const before = tf.memory().numTensors;
    const model = createModel(config, { seed: 6 });
    const copy = model.frozenCopy();
    expect([...copy.params.keys()]).toEqual([...model.params.keys()]);
    expect([...copy.params.values()].every((v) => !v.trainable)).toBe(true);
    const ids = tf.tensor2d([[1, 2, 3]], undefined, 'int32') as Tensor2D;
    const l0 = copy.forward({ inputIds: ids }).logits;
    const l1 = model.forward({ inputIds: ids }).logits;
    expect(await maxAbsDiff(l0, l1)).toBe(0);
    for (const v of model.params.values()) {
      const shifted = tf.tidy(() => tf.add(v, 1));
      v.assign(shifted);
      shifted.dispose();
    }
    const l2 = copy.forward({ inputIds: ids }).logits;
    expect(await maxAbsDiff(l0, l2)).toBe(0);
    model.dispose();
    const l3 = copy.forward({ inputIds: ids }).logits; // still usable after the original is gone
    expect(await maxAbsDiff(l0, l3)).toBe(0);
    copy.dispose();
    tf.dispose([ids, l0, l1, l2, l3]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => copy.forward({ inputIds: ids })).toThrow(/disposed/);
  });

  it('rejects bad inputs with one-line errors', () => {
    const model = createModel(config, { seed: 0 });
    const before = tf.memory().numTensors;
    const f = tf.tensor2d([[1, 2]], undefined, 'float32') as Tensor2D;
    const i = tf.tensor2d([[1, 2]], undefined, 'int32') as Tensor2D;
    const badMask = tf.tensor2d([[1, 1, 1]], undefined, 'int32') as Tensor2D;
    expect(() => model.forward({ inputIds: f })).toThrow(/inputIds must be int32/);
    expect(() => model.forward({ inputIds: i, attentionMask: badMask })).toThrow(/attentionMask shape \[1,3\] should be \[1,2\]/);
    if (family === 'gpt2') {
      const long = tf.zeros([1, 17], 'int32') as Tensor2D;
      expect(() => model.forward({ inputIds: long })).toThrow(/exceeds the model's 16 positions/);
      long.dispose();
    }
    tf.dispose([f, i, badMask]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('llama RoPE beyond max_position_embeddings', () => {
  beforeAll(useTestBackend);
  it('grows its tables: a 12-token row (max_position_embeddings 8) matches the same row run after a reset', async () => {
    const before = tf.memory().numTensors;
    const model = createModel(llamaConfig, { seed: 9 }) as TransformerLM;
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]], undefined, 'int32') as Tensor2D;
    const short = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32') as Tensor2D;
    const s0 = model.forward({ inputIds: short }).logits;
    const long = model.forward({ inputIds: ids }).logits;
    const s1 = model.forward({ inputIds: short }).logits;
    expect(long.shape).toEqual([1, 12, 40]);
    expect(await maxAbsDiff(s0, s1)).toBe(0); // growing the table kept the first positions' angles
    const head = tf.slice(long, [0, 0, 0], [1, 4, 40]);
    expect(await maxAbsDiff(head, s0)).toBeLessThan(1e-5); // other shapes: webgpu may sum in another order
    tf.dispose([ids, short, s0, long, s1, head]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

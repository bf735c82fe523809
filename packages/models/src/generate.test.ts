import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, generateTokens, loadModel, loadTokenizer, sampleToken, type HFTokenizer, type TransformerLM } from './index.js';
import { STORIES_DIR, useTestBackend } from './test-utils/setup.js';

interface Reference {
  greedy_from_bos_200_steps: { ids: number[]; text: string };
  prompts: { prompt: string; input_ids_with_bos: number[]; greedy_40_new_ids: number[]; greedy_40_text: string }[];
}
const reference = JSON.parse(readFileSync(path.join(STORIES_DIR, 'reference_outputs.json'), 'utf8')) as Reference;

describe('generate on stories260K', () => {
  let model: TransformerLM;
  let tokenizer: HFTokenizer;
  let before: number;
  beforeAll(async () => {
    await useTestBackend();
    before = tf.memory().numTensors;
    model = await loadModel(STORIES_DIR);
    tokenizer = await loadTokenizer(STORIES_DIR);
  });
  afterAll(() => {
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('greedy 200 tokens from BOS equal llama2.c token for token (KV cache)', async () => {
    const start = tf.memory().numTensors;
    const [tokens] = await generateTokens(model, [[1]], { maxNewTokens: 200, eosTokenId: null });
    expect([1, ...tokens]).toEqual(reference.greedy_from_bos_200_steps.ids);
    expect(await tokenizer.decode(tokens)).toBe(reference.greedy_from_bos_200_steps.text);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('a left-padded batch, with and without the cache, equals the per-prompt references', async () => {
    const start = tf.memory().numTensors;
    const prompts = reference.prompts.map((p) => p.input_ids_with_bos);
    const expected = reference.prompts.map((p) => p.greedy_40_new_ids);
    const cached = await generateTokens(model, prompts, { maxNewTokens: 40, eosTokenId: null });
    const uncached = await generateTokens(model, prompts, { maxNewTokens: 40, eosTokenId: null, useCache: false });
    expect(cached).toEqual(expected);
    expect(uncached).toEqual(expected);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('generate() encodes, stops at EOS and decodes the reference continuations', async () => {
    const start = tf.memory().numTensors;
    const { texts, tokens } = await generate(model, tokenizer, reference.prompts.map((p) => p.prompt), { maxNewTokens: 40 });
    expect(texts).toEqual(reference.prompts.map((p) => p.greedy_40_text));
    expect(tokens.map((t) => t.length)).toEqual([40, 40, 40]);
    // a row stops at its EOS: make token 426 (".") the stop token
    const stopped = await generateTokens(model, [reference.prompts[0].input_ids_with_bos], { maxNewTokens: 40, eosTokenId: 426 });
    const full = reference.prompts[0].greedy_40_new_ids;
    expect(stopped[0]).toEqual(full.slice(0, full.indexOf(426) + 1));
    expect(tf.memory().numTensors).toBe(start);
  });

  it('sampling is seeded, per row independent of the batch, and with cache equals without', async () => {
    const start = tf.memory().numTensors;
    const prompts = reference.prompts.map((p) => p.input_ids_with_bos);
    const o = { maxNewTokens: 16, doSample: true, temperature: 1.3, topK: 50, topP: 0.95, seed: 7, eosTokenId: null };
    const a = await generateTokens(model, prompts, o);
    const b = await generateTokens(model, prompts, { ...o, useCache: false });
    const c = await generateTokens(model, prompts, { ...o, seed: 8 });
    const alone = await generateTokens(model, [prompts[0]], o);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(alone[0]).toEqual(a[0]);
    // top-k 1 is greedy
    const k1 = await generateTokens(model, prompts, { ...o, topK: 1 });
    expect(k1).toEqual(reference.prompts.map((p) => p.greedy_40_new_ids.slice(0, 16)));
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('sampleToken', () => {
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  let seed = 1;
  const random = () => {
    seed = (seed * 16807) % 2147483647; // Park–Miller, independent of the sampler's own PRNG
    return (seed - 1) / 2147483646;
  };
  const frequencies = (o: Parameters<typeof sampleToken>[1], n = 20000) => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(logits, o, random)]++;
    return counts.map((c) => c / n);
  };

  it('draws from softmax(logits) (±0.015 over 20k draws)', () => {
    frequencies({}).forEach((f, i) => expect(Math.abs(f - [0.5, 0.3, 0.15, 0.05][i])).toBeLessThan(0.015));
  });
  it('top-k keeps the k best, renormalised: k=2 → 0.625 / 0.375', () => {
    const f = frequencies({ topK: 2 });
    expect(Math.abs(f[0] - 0.625)).toBeLessThan(0.015);
    expect(f[2] + f[3]).toBe(0);
  });
  it('top-p keeps the smallest nucleus reaching p: p=0.7 → {0.5, 0.3}', () => {
    const f = frequencies({ topP: 0.7 });
    expect(Math.abs(f[1] - 0.375)).toBeLessThan(0.015);
    expect(f[2] + f[3]).toBe(0);
  });
  it('temperature 0.5 squares the odds: p ∝ (0.5², 0.3², 0.15², 0.05²)', () => {
    const sq = [0.25, 0.09, 0.0225, 0.0025];
    const z = sq.reduce((s, x) => s + x, 0);
    frequencies({ temperature: 0.5 }).forEach((f, i) => expect(Math.abs(f - sq[i] / z)).toBeLessThan(0.015));
  });
  it('rejects a non-positive temperature', () => {
    expect(() => sampleToken(logits, { temperature: 0 }, random)).toThrow(/temperature must be > 0/);
  });
});

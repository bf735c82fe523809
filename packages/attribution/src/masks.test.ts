// Mask scores and masks against PyTorch (test/fixtures/make_masks.py, float64) on a toy LM with two forget and two
// retain batches (padding, -100 prompts); exact keep counts; seeded random masks; ties on a real Llama init.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { get, list } from '@unlearn/core';
import type { Mask, MaskData } from '@unlearn/core';
import { createModel } from '@unlearn/models';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { magnitude, random, salun, wagle, type ScoredMaskBuilder } from './index.js';
import { useTestBackend } from '@unlearn/test-utils';
import { ToyLM, disposeBatches, fixtureBatch as tokenBatch } from '@unlearn/test-utils';
import type { FixtureTensor, FixtureTokens } from '@unlearn/test-utils';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(here, '../test/fixtures/masks.json'), 'utf8')) as {
  total: number;
  model: Record<string, FixtureTensor>;
  forget: FixtureTokens[];
  retain: FixtureTokens[];
  cases: { builder: string; scores: Record<string, number[]>; masks: { keep: number; count: number; mask: Record<string, number[]> }[] }[];
};
const builders: Record<string, () => ScoredMaskBuilder> = {
  wagle: () => wagle(),
  'wagle mu=0.5': () => wagle({ mu: 0.5 }),
  salun: () => salun(),
  magnitude: () => magnitude(),
};

let before = 0;
let model: ToyLM;
let data: MaskData;
beforeAll(async () => {
  await useTestBackend();
});
beforeEach(() => {
  before = tf.memory().numTensors;
  model = new ToyLM(fixture.model);
  data = { forget: fixture.forget.map(tokenBatch), retain: fixture.retain.map(tokenBatch) };
});
afterEach(() => {
  model.dispose();
  disposeBatches([...data.forget, ...(data.retain ?? [])]);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
});

const disposeMask = (m: Mask) => tf.dispose([...m.values()]);
// async reads only (dataSync is unavailable on webgpu in Node): UNLEARN_TEST_BACKEND=webgpu runs this file too
const read = async (t: tf.Tensor) => Array.from(await t.data());
const countOnes = async (m: Mask) => {
  let n = 0;
  for (const t of m.values()) n += (await read(t)).reduce((a, b) => a + b, 0);
  return n;
};
const flat = async (m: Mask) => (await Promise.all([...m.values()].map(read))).flat();

describe('scores and masks against PyTorch', () => {
  it('registers wagle, salun, magnitude and random', () => {
    expect(list('mask')).toEqual(expect.arrayContaining(['wagle', 'salun', 'magnitude', 'random']));
  });

  it.each(fixture.cases)('$builder: scores to 1e-5, masks identical at every keep, exact counts', async (c) => {
    const builder = builders[c.builder]();
    const scores = await builder.scores(model, data);
    // float32 vs float64: 1e-5 relative, plus 1e-6 of the largest score — WAGLE's 1/μ = 1e6 multiplies the float32
    // rounding of the (cancelling) retain-gradient sums, giving errors ~1e-7 of the score scale.
    const scale = Math.max(...Object.values(c.scores).flat().map(Math.abs));
    const failures: string[] = [];
    for (const [name, expected] of Object.entries(c.scores)) {
      const got = await scores.get(name)!.data();
      expected.forEach((e, i) => {
        if (!(Math.abs(got[i] - e) <= 1e-5 * Math.max(1, Math.abs(e)) + 1e-6 * scale)) failures.push(`${name}[${i}]: got ${got[i]}, PyTorch says ${e}`);
      });
    }
    tf.dispose([...scores.values()]);
    expect(failures, `${c.builder} scores`).toEqual([]);
    for (const m of c.masks) {
      const mask = await builder.build(model, data, { keep: m.keep });
      expect([...mask.keys()]).toEqual(Object.keys(m.mask));
      for (const [name, expected] of Object.entries(m.mask)) {
        expect(await read(mask.get(name)!), `${c.builder} keep ${m.keep}: ${name}`).toEqual(expected);
        expect(mask.get(name)!.shape).toEqual(model.params.get(name)!.shape);
        expect(mask.get(name)!.dtype).toBe('float32');
      }
      expect(await countOnes(mask)).toBe(m.count);
      expect(m.count).toBe(Math.round(m.keep * fixture.total));
      disposeMask(mask);
    }
  });

  it('the registry builds the same masks as the factories', async () => {
    const a = await get('mask', 'wagle')({}).build(model, data, { keep: 0.37 });
    const b = await wagle().build(model, data, { keep: 0.37 });
    for (const [name, t] of a) expect(await read(t)).toEqual(await read(b.get(name)!));
    disposeMask(a);
    disposeMask(b);
  });
});

describe('random masks', () => {
  it('keep exactly round(keep·N), are the same for the same seed and differ for another', async () => {
    for (const keep of [0.01, 0.25, 0.5, 0.9]) {
      const a = await random({ seed: 3 }).build(model, data, { keep });
      const b = await random({ seed: 3 }).build(model, data, { keep });
      const c = await random({ seed: 4 }).build(model, data, { keep });
      expect(await countOnes(a)).toBe(Math.round(keep * fixture.total));
      expect(await flat(a)).toEqual(await flat(b));
      if (keep < 0.9) expect(await flat(a)).not.toEqual(await flat(c));
      [a, b, c].forEach(disposeMask);
    }
  });
});

describe('ties, on a real Llama initialisation', () => {
  it('magnitude keeps exactly k entries; among equal norm weights (all 1) the earliest win', async () => {
    const llama = createModel({
      model_type: 'llama', vocab_size: 32, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2,
      num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 16, tie_word_embeddings: false,
    }, { seed: 5 });
    const names = [...llama.params.keys()];
    const norms = names.filter((n) => n.endsWith('norm.weight'));
    const normEntries = norms.reduce((n, name) => n + llama.params.get(name)!.size, 0); // 5 norms × 8 = 40 ones
    const total = [...llama.params.values()].reduce((n, v) => n + v.size, 0);
    // init std 0.02 ≪ 1: the norm weights (exactly 1) are the largest; keep fewer than them, so the cut falls in a tie
    const keep = (normEntries - 13) / total;
    const k = Math.round(keep * total);
    const mask = await magnitude().build(llama, { forget: [] }, { keep });
    expect(await countOnes(mask)).toBe(k);
    let toTake = k;
    for (const name of names) {
      const got = await read(mask.get(name)!);
      if (!norms.includes(name)) {
        expect(got.every((x) => x === 0), name).toBe(true);
        continue;
      }
      const expected = got.map(() => (toTake-- > 0 ? 1 : 0)); // parameter order, then flat index
      expect(got, name).toEqual(expected);
    }
    disposeMask(mask);
    llama.dispose();
  });
});

describe('errors', () => {
  it('one line each: bad keep, wagle without retain data, unknown options, no forget batches', async () => {
    await expect(wagle().build(model, data, { keep: 0 })).rejects.toThrowError(/^wagle: options\.keep must be a fraction in \(0, 1\], got 0$/);
    await expect(salun().build(model, data, { keep: 1.5 })).rejects.toThrowError(/^salun: options\.keep must be a fraction in \(0, 1\], got 1\.5$/);
    await expect(magnitude().build(model, data, { keep: 1e-6 })).rejects.toThrowError(/^magnitude: keep = 0\.000001 of 129 parameter entries rounds to 0 entries/);
    await expect(wagle().build(model, { forget: data.forget }, { keep: 0.5 })).rejects.toThrowError(/^wagle needs data\.retain \(retain batches\)/);
    await expect(salun().build(model, { forget: [] }, { keep: 0.5 })).rejects.toThrowError(/^no forget batches: pass at least one TokenBatch in data\.forget$/);
    expect(() => wagle({ mu: 0 })).toThrowError(/^wagle: invalid options: mu: Number must be greater than 0$/);
    expect(() => random({ sead: 1 } as never)).toThrowError(/^random: invalid options: unknown option "sead"$/);
  });
});

import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@unlearn/tensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { collate, defaultPadTokenId, disposeBatch, padExamples } from './collate.js';
import { IGNORE_INDEX } from '@unlearn/core';
import { encodeQa, type EncodedExample } from './encode-qa.js';
import { paddingFraction, planBatches } from './length-batching.js';
import { deriveSeed, seededRandom } from '@unlearn/random';
import { planTokenBatches } from './token-batches.js';
import { loadTofuSplit } from './tofu.js';
import { charTokenizer } from './test-utils/char-tokenizer.js';
import { TOFU_DIR } from './test-utils/shared-data.js';

const golden = JSON.parse(readFileSync(new URL('../test/fixtures/golden.json', import.meta.url), 'utf8'));
const example = (inputIds: number[], promptLength: number, row = 0): EncodedExample => ({
  inputIds,
  labels: inputIds.map((id, t) => (t < promptLength ? IGNORE_INDEX : id)),
  row,
  truncated: false,
});

beforeAll(async () => {
  await initBackend('cpu');
});

describe('seededRandom (mulberry32)', () => {
  it('matches the reference C algorithm (test/fixtures/make_golden.py)', () => {
    const g = golden.mulberry32;
    const a = seededRandom(g.seed);
    expect(g.values.map(() => a.next())).toEqual(g.values);
    const b = seededRandom(g.seed2);
    expect(g.values2.map(() => b.next())).toEqual(g.values2);
  });

  it('shuffle is a seeded permutation; derived seeds give other streams', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s1 = seededRandom(7).shuffle(items);
    expect(s1).not.toEqual(items);
    expect([...s1].sort((x, y) => x - y)).toEqual(items);
    expect(seededRandom(7).shuffle(items)).toEqual(s1);
    expect(seededRandom(8).shuffle(items)).not.toEqual(s1);
    expect(deriveSeed(7, 'retain', 0)).not.toBe(deriveSeed(7, 'retain', 1));
    expect(deriveSeed(7, 'retain', 0)).toBe(deriveSeed(7, 'retain', 0));
    expect(new Set(seededRandom(1).sample(items, 10)).size).toBe(10);
  });
});

describe('collate', () => {
  const examples = [example([1, 10, 11, 12], 2), example([1, 20], 1)];

  it('right padding: pad id, attention 0, label -100 on pads', () => {
    const a = padExamples(examples, { padTokenId: 0 });
    expect([a.batch, a.seq]).toEqual([2, 4]);
    expect([...a.inputIds]).toEqual([1, 10, 11, 12, 1, 20, 0, 0]);
    expect([...a.attentionMask]).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    expect([...a.labels]).toEqual([-100, -100, 11, 12, -100, 20, -100, -100]);
  });

  it('left padding and padToLength', () => {
    const a = padExamples(examples, { padTokenId: 9, paddingSide: 'left', padToLength: 5 });
    expect([...a.inputIds]).toEqual([9, 1, 10, 11, 12, 9, 9, 9, 1, 20]);
    expect([...a.attentionMask]).toEqual([0, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
    expect([...a.labels]).toEqual([-100, -100, -100, 11, 12, -100, -100, -100, -100, 20]);
  });

  it('makes int32 tensors and leaks none once disposed', async () => {
    const before = tf.memory().numTensors;
    const batch = collate(examples, { padTokenId: 0 });
    expect(batch.inputIds.dtype).toBe('int32');
    expect(batch.labels.shape).toEqual([2, 4]);
    expect(await batch.labels.array()).toEqual([[-100, -100, 11, 12], [-100, 20, -100, -100]]);
    expect(await batch.attentionMask.array()).toEqual([[1, 1, 1, 1], [1, 1, 0, 0]]);
    disposeBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pad id falls back to EOS, then 0', () => {
    expect(defaultPadTokenId(charTokenizer())).toBe(0);
    expect(defaultPadTokenId(charTokenizer({ padTokenId: null }))).toBe(2);
    expect(() => padExamples([{ ...examples[0], labels: [1] }], { padTokenId: 0 })).toThrow('collate: example 0 has 4 input ids but 1 labels');
  });
});

describe('planBatches and paddingFraction', () => {
  it('padding fraction by hand: lengths 2,4 in one batch → 2 of 8 slots padded', () => {
    expect(paddingFraction([2, 4, 3], [[0, 1], [2]])).toBeCloseTo(2 / 11, 12);
  });

  it('without shuffle or grouping: consecutive batches, dropLast', () => {
    const lengths = [5, 1, 4, 2, 3];
    expect(planBatches(lengths, { batchSize: 2, shuffle: false, groupByLength: false })).toEqual([[0, 1], [2, 3], [4]]);
    expect(planBatches(lengths, { batchSize: 2, shuffle: false, groupByLength: false, dropLast: true })).toEqual([[0, 1], [2, 3]]);
    expect(planBatches(lengths, { batchSize: 2, shuffle: false })).toEqual([[0, 2], [4, 3], [1]]);
  });

  it('on TOFU forget10: every example once, deterministic, grouping cuts padding', async () => {
    const rows = await loadTofuSplit(TOFU_DIR, 'forget10');
    const { examples } = await encodeQa(charTokenizer(), rows);
    const lengths = examples.map((e) => e.inputIds.length);
    const grouped = planBatches(lengths, { batchSize: 8, seed: 3 });
    const random = planBatches(lengths, { batchSize: 8, seed: 3, groupByLength: false });
    for (const plan of [grouped, random]) expect(plan.flat().sort((x, y) => x - y)).toEqual(lengths.map((_, i) => i));
    expect(planBatches(lengths, { batchSize: 8, seed: 3 })).toEqual(grouped);
    expect(planBatches(lengths, { batchSize: 8, seed: 4 })).not.toEqual(grouped);
    const groupedPad = paddingFraction(lengths, grouped);
    const randomPad = paddingFraction(lengths, random);
    expect(groupedPad).toBeLessThan(randomPad / 3);
  });
});

describe('planTokenBatches', () => {
  it('epochs reorder, tensors are made on demand and disposable', async () => {
    const examples = Array.from({ length: 10 }, (_, i) => example([1, ...new Array<number>(1 + (i % 4)).fill(5 + i)], 1, i));
    const plan = planTokenBatches(examples, { batchSize: 4, epochs: 2, seed: 1, padTokenId: 0 });
    expect(plan.indices).toHaveLength(6);
    expect(plan.indices.slice(0, 3).flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(plan.indices.slice(3)).not.toEqual(plan.indices.slice(0, 3));
    expect(plan.paddingFraction).toBeGreaterThanOrEqual(0);
    const before = tf.memory().numTensors;
    let rows = 0;
    for (const batch of plan) {
      rows += batch.inputIds.shape[0];
      disposeBatch(batch);
    }
    expect(rows).toBe(20);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => plan.batch(6)).toThrow('TokenBatchPlan.batch: index 6 outside [0, 6)');
  });
});

// Needs, options and composition: one-line errors for unmet needs and bad options; a user-defined objective.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { get } from '@unlearn/core';
import type { CausalLM, UnlearnBatch } from '@unlearn/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchNll, defineObjective, npo, rmu, rmuDirection } from './index.js';
import { useTestBackend } from '@unlearn/test-utils';
import { ToyLM, disposeBatch, fixtureBatch as tokenBatch } from '@unlearn/test-utils';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(here, '../test/fixtures/objectives.json'), 'utf8'));

let before = 0;
let model: ToyLM;
beforeAll(async () => {
  await useTestBackend();
});
beforeEach(() => {
  before = tf.memory().numTensors;
  model = new ToyLM(fixture.model);
});
afterEach(() => {
  model.dispose();
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
});

function withBatch(parts: ('forget' | 'retain' | 'alternate')[], fn: (b: UnlearnBatch) => void): void {
  const b = Object.fromEntries(parts.map((p) => [p, tokenBatch(fixture.batches[p])])) as unknown as UnlearnBatch;
  try {
    fn(b);
  } finally {
    for (const p of parts) disposeBatch(b[p]);
  }
}

describe('needs', () => {
  it('declares what each objective needs', () => {
    const needs = (name: string, o: Record<string, unknown> = {}) => get('objective', name)(o).needs;
    expect(needs('ga')).toEqual({});
    expect(needs('graddiff')).toEqual({ retain: true });
    expect(needs('graddiff', { retainLoss: 'kl' })).toEqual({ retain: true, reference: true });
    expect(needs('kl')).toEqual({ retain: true, reference: true });
    expect(needs('npo')).toEqual({ reference: true, retain: true });
    expect(needs('npo', { retainWeight: 0 })).toEqual({ reference: true });
    expect(needs('simnpo', { retainWeight: 0 })).toEqual({});
    expect(needs('idk')).toEqual({ alternate: true, retain: true });
    expect(needs('idkdpo')).toEqual({ reference: true, alternate: true, retain: true });
    expect(needs('rmu')).toEqual({ hiddenStates: true, reference: true, retain: true });
    expect(needs('rmu', { retainWeight: 0 })).toEqual({ hiddenStates: true });
  });

  it.each([
    ['npo', ['forget', 'retain'], /^npo needs a reference model \(ctx\.reference/],
    ['graddiff', ['forget'], /^graddiff needs batch\.retain/],
    ['kl', ['forget', 'retain'], /^kl needs a reference model/],
    ['idk', ['forget', 'retain'], /^idk needs batch\.alternate/],
    ['idkdpo', ['forget', 'retain'], /^idkdpo needs batch\.alternate/],
    ['rmu', ['forget'], /^rmu needs batch\.retain/],
  ] as const)('%s without what it needs fails with one line', (name, parts, message) => {
    withBatch([...parts], (batch) => {
      const objective = get('objective', name)({});
      const start = tf.memory().numTensors;
      expect(() => objective.loss(model, batch, { step: 0 })).toThrowError(message);
      expect(tf.memory().numTensors).toBe(start);
    });
  });

  it('rmu names a model that returns no hidden states, and a layer that does not exist', () => {
    const noHidden: CausalLM = { ...model, config: model.config, params: model.params, forward: (i) => ({ logits: model.forward(i).logits }), frozenCopy: () => model, dispose: () => {} };
    withBatch(['forget'], (batch) => {
      expect(() => tf.tidy(() => rmu({ retainWeight: 0 }).loss(noHidden, batch, { step: 0 }) as never)).toThrowError(
        /^rmu needs hidden states: the model\.forward\(\.\.\., \{ hiddenStates: true \}\) returned none$/,
      );
      expect(() => tf.tidy(() => rmu({ retainWeight: 0, layer: 3 }).loss(model, batch, { step: 0 }) as never)).toThrowError(
        /^rmu: layer 3 does not exist: the model returned hidden states for 1 layers \(0\.\.0\)$/,
      );
    });
  });

  it('idkdpo refuses alternate and forget batches with different row counts', () => {
    withBatch(['forget', 'retain'], (batch) => {
      const alternate = tokenBatch({ inputIds: [[1, 2, 3]], attentionMask: [[1, 1, 1]], labels: [[1, 2, 3]] });
      const reference = model.frozenCopy();
      expect(() => get('objective', 'idkdpo')({}).loss(model, { ...batch, alternate }, { reference, step: 0 })).toThrowError(
        /^idkdpo: batch\.alternate has 1 rows but batch\.forget has 3; row i of each must answer the same question$/,
      );
      disposeBatch(alternate);
      reference.dispose();
    });
  });
});

describe('options', () => {
  it('fail on a typo or a bad value with one line naming the objective and field', () => {
    expect(() => npo({ betta: 0.1 } as never)).toThrowError(/^npo: invalid options: unknown option "betta"$/);
    expect(() => npo({ beta: -1 })).toThrowError(/^npo: invalid options: beta: Number must be greater than 0$/);
    expect(() => get('objective', 'graddiff')({ retainLoss: 'mse' })).toThrowError(/^graddiff: invalid options: retainLoss: /);
    expect(() => get('objective', 'ga')({ retainWeight: 1 })).toThrowError(/^ga: invalid options: unknown option "retainWeight"$/);
    expect(() => rmu({ layer: 1.5 })).toThrowError(/^rmu: invalid options: layer: /);
  });
});

describe('rmuDirection', () => {
  it('is a seeded unit vector with non-negative entries (normalised uniform [0,1), as wmdp draws it)', () => {
    const a = rmuDirection(64, 7);
    expect(Array.from(a)).toEqual(Array.from(rmuDirection(64, 7)));
    expect(Array.from(a)).not.toEqual(Array.from(rmuDirection(64, 8)));
    expect(Math.hypot(...a)).toBeCloseTo(1, 6);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Array.from(rmuDirection(2, 0, [3, 4]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(() => rmuDirection(3, 0, [1, 2])).toThrowError(/^rmu: direction has 2 entries but the hidden size is 3$/);
  });
});

describe('defineObjective', () => {
  it('composes a user-defined forget term with the retain NLL: loss = γ·forget + α·retain', () => {
    // "Forget by flattening": maximise the forget NLL but only up to a ceiling (a tiny custom objective).
    const ceiling = 3;
    const capped = defineObjective({
      name: 'capped-ga',
      forget: (m, { batch }) => tf.tidy(() => tf.relu(tf.sub(ceiling, batchNll(m, batch.forget)))),
      forgetWeight: 2,
      retainWeight: 0.5,
    });
    expect(capped.needs).toEqual({ retain: true });
    withBatch(['forget', 'retain'], (batch) => {
      const { loss, parts } = capped.loss(model, batch, { step: 0 }) as { loss: tf.Scalar; parts: Record<string, tf.Scalar> };
      const expected = 2 * Math.max(0, ceiling - fixture.nll.forget) + 0.5 * fixture.nll.retain;
      expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
      expect(parts.retain.dataSync()[0]).toBeCloseTo(fixture.nll.retain, 5);
      tf.dispose([loss, ...Object.values(parts)]);
    });
  });

  it('names a term that is not a scalar, and leaks nothing when it fails', () => {
    const bad = defineObjective({ name: 'per-row', forget: (m, { batch }) => tf.tidy(() => tf.sum(m.forward(batch.forget).logits, [1, 2])) });
    withBatch(['forget', 'retain'], (batch) => {
      const start = tf.memory().numTensors;
      expect(() => bad.loss(model, batch, { step: 0 })).toThrowError(/^per-row: the forget term must be a scalar tensor, got shape \[3\]$/);
      expect(tf.memory().numTensors).toBe(start);
    });
    expect(() => defineObjective({ name: 'x', forget: () => tf.scalar(0), retainWeight: -1 })).toThrowError(/^x: retainWeight must be a finite number ≥ 0, got -1$/);
  });
});

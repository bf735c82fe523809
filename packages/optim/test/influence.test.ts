// One-shot influence unlearning over whole example sets against a dense float64 PyTorch Newton step on the 100-parameter
// toy LM (test/fixtures/make_influence_golden.py → influence-golden.json): θ + (T_f/T_r)·(C + λI)⁻¹∇ℓ_f with ℓ_f over
// the whole forget set (two batches), C the exact retain Hessian (cg) or the empirical Fisher of per-example retain
// gradients (woodfisher), over the whole retain set (three batches, 11 examples) or its first 5 examples.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import type { TensorMap, TokenBatch } from '@unlearn/core';
import { exampleSetCurvature, influence } from '../src/index.js';
import { createToyLM, disposeMap, maxAbsDiff, snapshot, tokenBatch } from './helpers.js';
import type { ToyWeights } from '@unlearn/test-utils';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const g: any = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'influence-golden.json'), 'utf8'));

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

const batchesOf = (parts: { ids: number[][]; labels: number[][] }[]): TokenBatch[] => parts.map((p) => tokenBatch(p.ids, p.labels));
const disposeBatches = (bs: TokenBatch[]) => bs.forEach((b) => tf.dispose([b.inputIds, b.attentionMask, b.labels]));

async function oneShot(solver: 'woodfisher' | 'cg', which: 'whole' | 'sample5') {
  const model = createToyLM(g.init as ToyWeights);
  const forget = batchesOf(g.forget);
  const retain = batchesOf(g.retain);
  const want = g[which];
  const opt = influence({ solver, damping: want[solver].damping, maxIterations: 300, tolerance: 1e-8, ...(which === 'sample5' ? { retainExamples: 5 } : {}) });
  const needs = opt.needs!;
  const examples = typeof needs.retainSet === 'object' ? needs.retainSet.examples : undefined;
  const sets = { forget: exampleSetCurvature(model, forget), retain: exampleSetCurvature(model, retain, { examples }) };
  const grads: TensorMap = new Map([...model.params].map(([n, v]) => [n, tf.zerosLike(v)])); // only says which parameters may move
  const stats = await opt.step(model.params, grads, { step: 0, sets });
  const after = snapshot(model.params);
  disposeMap(grads);
  sets.forget.dispose();
  sets.retain.dispose();
  opt.dispose();
  disposeBatches(forget);
  disposeBatches(retain);
  model.dispose();
  return { stats, after, want, needs };
}

describe('influence unlearning over the whole forget and retain sets vs a dense float64 Newton step', () => {
  it('declares its data needs: the whole forget set and the retain set (or a stated sample)', () => {
    expect(influence().needs).toEqual({ forgetSet: true, retainSet: true });
    expect(influence({ retainExamples: 5 }).needs).toEqual({ forgetSet: true, retainSet: { examples: 5 } });
  });

  it('the forget gradient is accumulated over every batch, token-weighted', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(g.init as ToyWeights);
    const forget = batchesOf(g.forget);
    const set = exampleSetCurvature(model, forget);
    expect(await set.tokens()).toBe(g.forgetTokens);
    expect(await set.examples()).toBe(3);
    const grad = await set.gradient();
    const flat = [...grad.values()].flatMap((t) => Array.from(t.dataSync()));
    flat.forEach((x, i) => expect(Math.abs(x - g.forgetGradient[i])).toBeLessThan(1e-5));
    disposeMap(grad);
    set.dispose();
    disposeBatches(forget);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const which of ['whole', 'sample5'] as const) {
    it(`woodfisher (${which} retain set) equals θ + (T_f/T_r)(F + λI)⁻¹∇ℓ_f`, async () => {
      const before = tf.memory().numTensors;
      const { stats, after, want } = await oneShot('woodfisher', which);
      expect(stats.sets).toBe(1);
      expect(stats.examples).toBe(want.examples);
      expect(stats.retainExamples).toBe(want.examples);
      expect(stats.forgetExamples).toBe(3);
      expect(stats.scale).toBeCloseTo(want.alpha, 12);
      expect(stats.damping).toBe(want.woodfisher.damping);
      expect(stats.curvatureShare).toBeCloseTo(want.woodfisher.curvatureShare, 4);
      expect(maxAbsDiff(after, want.woodfisher.after)).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`cg on finite-difference HVPs (${which} retain set) equals θ + (T_f/T_r)(H_r + λI)⁻¹∇ℓ_f with the exact Hessian`, async () => {
      const before = tf.memory().numTensors;
      const { stats, after, want } = await oneShot('cg', which);
      expect(stats.negativeCurvature).toBe(0);
      expect(stats.relativeResidual).toBeLessThan(1e-6);
      expect(stats.scale).toBeCloseTo(want.alpha, 12);
      // fp32 finite differences limit agreement: 2e-4 on parameters of size ~1
      expect(maxAbsDiff(after, want.cg.after)).toBeLessThan(2e-4);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a solve that ignored the curvature (v/λ) would be far from the dense Newton step: the test can fail', async () => {
    const { want } = await oneShot('woodfisher', 'whole');
    expect(want.woodfisher.curvatureShare).toBeGreaterThan(0.3);
  });

  it('rejects a bad retainExamples with one line', () => {
    expect(() => influence({ retainExamples: 0 })).toThrow(/^influence: invalid options: retainExamples: /);
  });
});

// Sophia's guards and reports beyond the PyTorch goldens (golden.test.ts): B must be known for fisher, a run that
// stays in the sign-descent (or never-clipped) regime says so once, an objective without Gauss-Newton curvature falls
// back to the empirical Fisher and says so once, and ρ calibration is independent of the batch size.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { createCurvatureProbe, gradientsOf, lossOf } from '@unlearn/train';
import type { CurvatureProbe } from '@unlearn/core';
import { calibratedRho, sophia } from '../src/sophia.js';
import { disposeMap, disposeUnlearnBatch, goldenBatch, goldenModel, toyGradDiff } from './helpers.js';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

const objective = toyGradDiff(1, 1);

async function steps(opt: ReturnType<typeof sophia>, n: number, probeOf: (p: CurvatureProbe) => CurvatureProbe | undefined = (p) => p) {
  const model = goldenModel();
  const batch = goldenBatch();
  const stats = [];
  try {
    for (let step = 0; step < n; step++) {
      const grads = gradientsOf(() => lossOf(objective.loss(model, batch, { step })), model.params);
      const probe = createCurvatureProbe({ model, objective, batch, objectiveContext: { step } });
      try {
        stats.push(await opt.step(model.params, grads, { step, probe: probeOf(probe), seed: step }));
      } finally {
        probe.dispose();
        disposeMap(grads);
      }
    }
  } finally {
    disposeUnlearnBatch(batch);
    model.dispose();
  }
  return stats;
}

describe('sophia guards and warnings', () => {
  it('fisher without a batch size or a probe fails with a clear error instead of using B = 1', async () => {
    const before = tf.memory().numTensors;
    const opt = sophia({ estimator: 'fisher', rho: 0.1 });
    await expect(steps(opt, 1, () => undefined)).rejects.toThrow(/^sophia: the fisher estimator \(ĥ = B·g⊙g\) needs B: pass `batchSize`/);
    opt.dispose();
    // with batchSize it runs without a probe
    const fixed = sophia({ estimator: 'fisher', rho: 0.1, batchSize: 20 });
    expect((await steps(fixed, 1, () => undefined))[0].winRate).toBeGreaterThan(0);
    fixed.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('warns once, in one line, when the win rate stays below 1% for the first 5 steps (and not when it does not)', async () => {
    const before = tf.memory().numTensors;
    const warnings: string[] = [];
    const clipped = sophia({ estimator: 'fisher', rho: 1e-6, onWarning: (m) => warnings.push(m) });
    const stats = await steps(clipped, 6);
    expect(stats.every((s) => s.winRate < 0.01)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^sophia: the win rate stayed below 1% for the first 5 steps \(now 0\.00%, ρ = 1\.00e-6\): nearly every entry takes the clipped step/);
    expect(warnings[0]).not.toContain('\n');
    clipped.dispose();
    const never = sophia({ estimator: 'fisher', rho: 1e6, onWarning: (m) => warnings.push(m) });
    await steps(never, 5);
    expect(warnings[1]).toMatch(/^sophia: the win rate stayed above 99% for the first 5 steps/);
    never.dispose();
    const calibrated = sophia({ estimator: 'fisher', onWarning: (m) => warnings.push(m) });
    const s = await steps(calibrated, 6);
    expect(warnings).toHaveLength(2);
    s.forEach((x) => expect(Math.abs(x.winRate - 0.25)).toBeLessThanOrEqual(0.01)); // k = 1: calibrated every step
    calibrated.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gnb on an objective that declares no Gauss-Newton curvature uses the empirical Fisher and says so once', async () => {
    const before = tf.memory().numTensors;
    const warnings: string[] = [];
    const opt = sophia({ rho: 0.08, k: 1, onWarning: (m) => warnings.push(m) });
    const noGn = (p: CurvatureProbe): CurvatureProbe => Object.assign(Object.create(p), { gaussNewtonGrads: () => null, batchTokens: p.batchTokens, sampledLabelGrads: () => { throw new Error('must not be asked'); } });
    const stats = await steps(opt, 3, noGn);
    expect(stats.map((s) => s.fisherFallback)).toEqual([1, 1, 1]);
    expect(warnings).toEqual(['sophia: the objective declares no Gauss-Newton curvature (objective.curvature.kind = "none"); the gnb estimator uses the empirical Fisher B·g⊙g of the loss gradient instead']);
    // the same trajectory as sophia-fisher itself
    const fisher = sophia({ rho: 0.08, estimator: 'fisher' });
    const f = await steps(fisher, 3);
    stats.forEach((s, i) => expect(s.winRate).toBe(f[i].winRate));
    opt.dispose();
    fisher.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gnb with a probe that offers objective curvature uses ĥ = ĝ⊙ĝ, no B', async () => {
    const before = tf.memory().numTensors;
    // ĝ fixed to 2 everywhere: ĥ = 4, bias-corrected h = 4 after one refresh; ρ = 0.25 → denominator 1
    const opt = sophia({ rho: 0.25, lr: 0.1, weightDecay: 0 });
    const fixed = (p: CurvatureProbe): CurvatureProbe => Object.assign(Object.create(p), {
      gaussNewtonGrads: () => new Map([...goldenNames(p)].map(([n, shape]) => [n, tf.fill(shape, 2)])),
      batchTokens: async () => { throw new Error('B must not be asked'); },
    });
    const model = goldenModel();
    const shapes = new Map([...model.params].map(([n, v]) => [n, v.shape]));
    model.dispose();
    const goldenNames = (_p: CurvatureProbe) => shapes;
    const [s] = await steps(opt, 1, fixed);
    expect(s.hMean).toBeCloseTo(4, 5);
    expect(s.hMedian).toBeCloseTo(4, 5);
    expect(s.curvatureScale).toBeCloseTo(1, 5);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a preset typo and conflicting options with one line', () => {
    expect(() => sophia({ preset: 'soul' as 'soul-tofu' })).toThrow(/^sophia: invalid options: preset: /);
    expect(() => sophia({ targetWinRate: 1 })).toThrow('sophia: invalid options: targetWinRate: Number must be less than 1');
  });
});

describe('calibratedRho', () => {
  it('is the smallest ratio with ⌊q·n⌋ ratios below it, skipping zeros; NaN and negatives never win', () => {
    // 10 ratios: 0, 0, 1..6, NaN, -1 → sorted finite: 0 0 1 2 3 4 5 6 ∞ ∞
    const r = [3, 0, 1, NaN, 5, 0, 2, 6, -1, 4];
    expect(calibratedRho(r, 0.5)).toBe(4); // index 5
    expect(calibratedRho(r, 0.1)).toBe(1); // index 1 is 0 → first positive
    expect(calibratedRho(r, 0.85)).toBeUndefined(); // index 8 is ∞
    expect(calibratedRho([], 0.3)).toBeUndefined();
  });

  it('does not depend on the batch size: the same |m|/h with 8× the rows gives the same ρ', () => {
    const base = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 100 + 0.01);
    expect(calibratedRho(base, 0.25)).toBe(calibratedRho([...base, ...base, ...base, ...base, ...base, ...base, ...base, ...base], 0.25));
  });
});

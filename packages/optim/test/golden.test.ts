// Every optimizer against an independent PyTorch computation (test/fixtures/make_golden.py) on the toy LM, to 1e-5.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { createCurvatureProbe, gradientsOf, lossOf } from '@unlearn/train';
import type { CurvatureProbe, Optimizer, TensorMap } from '@unlearn/core';
import { adamw, hutchinsonEstimator, influence, sgd, sophia } from '../src/index.js';
import type { SophiaOptions } from '../src/index.js';
import { NAMES, disposeMap, disposeUnlearnBatch, golden, goldenBatch, goldenModel, mapFrom, maxAbsDiff, snapshot, toyGradDiff } from './helpers.js';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

const objective = toyGradDiff(1, 1);
const TOL = 1e-5;

/** Runs `steps` steps of `optimizer` on the golden model/batch; returns the params after each step and the stats. */
type Probe = CurvatureProbe & { dispose(): void };
type MakeProbe = (overrides?: Partial<Parameters<typeof createCurvatureProbe>[0]>) => Probe;

async function run(optimizer: Optimizer, steps: number, probeFor?: (step: number, make: MakeProbe) => Probe) {
  const model = goldenModel();
  const batch = goldenBatch();
  const trajectory: Record<string, number[]>[] = [];
  const stats: Record<string, number>[] = [];
  for (let step = 0; step < steps; step++) {
    const grads = gradientsOf(() => lossOf(objective.loss(model, batch, { step })), model.params);
    const make: MakeProbe = (overrides = {}) => createCurvatureProbe({ model, objective, batch, objectiveContext: { step }, ...overrides });
    const probe = probeFor ? probeFor(step, make) : make();
    stats.push(await optimizer.step(model.params, grads, { step, probe, seed: step }));
    probe.dispose();
    disposeMap(grads);
    trajectory.push(snapshot(model.params));
  }
  const state = optimizer.state();
  const stateSnap = snapshot(state);
  disposeMap(state);
  disposeUnlearnBatch(batch);
  model.dispose();
  return { trajectory, stats, state: stateSnap };
}

function expectTrajectory(got: Record<string, number[]>[], want: Record<string, number[]>[]) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(maxAbsDiff(g, want[i]), `step ${i}`).toBeLessThan(TOL));
}

describe('first-order optimizers vs torch.optim', () => {
  it('sgd equals torch.optim.SGD (nesterov momentum, L2 decay), state included', async () => {
    const before = tf.memory().numTensors;
    const opt = sgd(golden.sgd.options);
    const r = await run(opt, 3);
    expectTrajectory(r.trajectory, golden.sgd.trajectory);
    expect(maxAbsDiff(r.state, golden.sgd.state)).toBeLessThan(TOL);
    expect(r.state.step).toEqual([3]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('adamw equals torch.optim.AdamW with decay on rank ≥ 2 parameters only, state included', async () => {
    const before = tf.memory().numTensors;
    const opt = adamw(golden.adamw.options);
    const r = await run(opt, 3);
    expectTrajectory(r.trajectory, golden.adamw.trajectory);
    expect(maxAbsDiff(r.state, golden.adamw.state)).toBeLessThan(1e-6);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** Every step's stats against the golden's: win rate to one entry (the calibration entry sits on the boundary), the rest relative 1e-4. */
function expectStats(got: Record<string, number>[], want: Record<string, number>[], total = 100) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i];
    expect(Math.abs(g.winRate - w.winRate), `step ${i} winRate`).toBeLessThanOrEqual(1 / total + 1e-12);
    expect(g.clipFraction).toBeCloseTo(1 - g.winRate, 12);
    expect(g.hessianRefreshed, `step ${i}`).toBe(w.hessianRefreshed);
    for (const key of ['rho', 'hMean', 'hMax', 'hMedian', 'momentumMedian'] as const) {
      expect(Math.abs(g[key] - w[key]), `step ${i} ${key}: ${g[key]} vs ${w[key]}`).toBeLessThanOrEqual(1e-4 * Math.abs(w[key]) + 1e-9);
    }
    expect(g.curvatureScale).toBeCloseTo(g.rho * g.hMedian, 10);
  });
}

/** A probe whose GNB draw returns the fixture's labels, in order. */
function fixedLabels(queue: number[][]) {
  return (_step: number, make: MakeProbe) => make({
    sampleLabels: (logits) => {
      const labels = queue.shift()!;
      expect(labels.length).toBe(logits.shape[0]);
      return tf.tensor1d(labels, 'int32') as Tensor1D;
    },
  });
}

describe('sophia vs a PyTorch implementation of the paper (bias-corrected h)', () => {
  it('fisher (ĥ = B·g⊙g every step) matches over 4 steps, with every step\'s win rate and h statistics', async () => {
    const before = tf.memory().numTensors;
    const opt = sophia(golden.sophiaFisher.options);
    const r = await run(opt, 4);
    expectTrajectory(r.trajectory, golden.sophiaFisher.trajectory);
    expect(maxAbsDiff(r.state, golden.sophiaFisher.state)).toBeLessThan(1e-4 * 20); // h is O(B·g²) ≈ 10²: relative 1e-5
    expectStats(r.stats, golden.sophiaFisher.stats);
    for (const key of ['sophiaFisher', 'sophiaGnb', 'sophiaHutchinson']) {
      for (const s of golden[key].stats) expect(s.winRate > 0.1 && s.winRate < 0.9, key).toBe(true); // both regimes exercised
    }
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without bias correction (the paper\'s and SOUL\'s h) the same run clips every entry: win rate 0 at every step', async () => {
    const before = tf.memory().numTensors;
    const opt = sophia(golden.sophiaFisherUncorrected.options);
    const r = await run(opt, 4);
    expectTrajectory(r.trajectory, golden.sophiaFisherUncorrected.trajectory);
    expectStats(r.stats, golden.sophiaFisherUncorrected.stats);
    expect(r.stats.every((s) => s.winRate === 0)).toBe(true);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gnb with fixed sampled labels matches over 5 steps with 3 refreshes (k = 2)', async () => {
    const before = tf.memory().numTensors;
    const queue: number[][] = golden.sophiaGnb.sampled.flatMap((s: { forget: number[]; retain: number[] }) => [s.forget, s.retain]);
    const opt = sophia(golden.sophiaGnb.options);
    const r = await run(opt, 5, fixedLabels(queue));
    expect(queue.length).toBe(0); // three estimates × two parts consumed
    expectTrajectory(r.trajectory, golden.sophiaGnb.trajectory);
    expectStats(r.stats, golden.sophiaGnb.stats);
    expect(r.stats.map((s) => s.hessianRefreshed)).toEqual([1, 0, 1, 0, 1]);
    expect(maxAbsDiff(r.state, golden.sophiaGnb.state)).toBeLessThan(1e-4);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('calibrated ρ (targetWinRate 0.3) picks the same ρ at every refresh and hits the target there', async () => {
    const before = tf.memory().numTensors;
    const queue: number[][] = golden.sophiaGnb.sampled.flatMap((s: { forget: number[]; retain: number[] }) => [s.forget, s.retain]);
    const opt = sophia(golden.sophiaGnbCalibrated.options);
    const r = await run(opt, 5, fixedLabels(queue));
    expectTrajectory(r.trajectory, golden.sophiaGnbCalibrated.trajectory);
    expectStats(r.stats, golden.sophiaGnbCalibrated.stats);
    r.stats.forEach((s, i) => { if (s.hessianRefreshed) expect(Math.abs(s.winRate - 0.3), `step ${i}`).toBeLessThanOrEqual(0.01 + 1e-12); });
    expect(new Set(r.stats.map((s) => s.rho.toPrecision(6))).size).toBe(3); // one ρ per refresh, held in between
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hutchinson with fixed u and exact Hu matches (ĥ = u⊙Hu every k = 2 steps)', async () => {
    const before = tf.memory().numTensors;
    let estimate = -1;
    const direction = (name: string, shape: number[]) => tf.tensor(golden.sophiaHutchinson.u[estimate + 1][name], shape);
    const estimator = hutchinsonEstimator(direction);
    const options: SophiaOptions = { ...golden.sophiaHutchinson.options, estimator: (input) => estimator(input) };
    const opt = sophia(options);
    const r = await run(opt, 3, (_step, make) => {
      const real = make();
      return {
        ...real,
        batchTokens: real.batchTokens,
        hessianVectorProduct: async (v: TensorMap) => {
          estimate++;
          // the optimizer must ask for H·u with exactly the fixture's u
          for (const [name, t] of v) expect(Array.from(t.dataSync())).toEqual(golden.sophiaHutchinson.u[estimate][name]);
          return new Map(NAMES.map((n) => [n, tf.tensor(golden.sophiaHutchinson.hu[estimate][n], v.get(n)!.shape) as Tensor]));
        },
        dispose: () => real.dispose(),
      };
    });
    expect(estimate).toBe(1);
    expectTrajectory(r.trajectory, golden.sophiaHutchinson.trajectory);
    expectStats(r.stats, golden.sophiaHutchinson.stats);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hutchinson with fixed u and the REAL finite-difference HVP stays within 1e-4 of the exact-Hessian run', async () => {
    const before = tf.memory().numTensors;
    let estimate = 0;
    const estimator = hutchinsonEstimator((name, shape) => tf.tensor(golden.sophiaHutchinson.u[estimate][name], shape));
    const opt = sophia({ ...golden.sophiaHutchinson.options, estimator: (input) => {
      const out = estimator(input);
      estimate++;
      return out;
    } });
    const r = await run(opt, 3);
    expect(estimate).toBe(2);
    r.trajectory.forEach((g, i) => expect(maxAbsDiff(g, golden.sophiaHutchinson.trajectory[i]), `step ${i}`).toBeLessThan(1e-4));
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the soul-tofu preset reproduces OPTML-Group/SOUL's SophiaG run (betas [β1², β2], bs 5120, no bias correction)", async () => {
    const before = tf.memory().numTensors;
    const s = golden.soulSophiaG;
    const opt = sophia({ preset: 'soul-tofu', lr: s.lr });
    const r = await run(opt, 3);
    expectTrajectory(r.trajectory, s.trajectory);
    expect(r.stats.every((x) => x.rho === 0.04)).toBe(true);
    opt.dispose();
    const explicit = sophia({ lr: s.lr, betas: [s.betas[0] ** 2, s.betas[1]], rho: s.rho, weightDecay: s.weightDecay, estimator: 'fisher', batchSize: s.bs, biasCorrection: false });
    expectTrajectory((await run(explicit, 3)).trajectory, s.trajectory);
    explicit.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('influence (one-shot) vs a dense PyTorch solve', () => {
  it('woodfisher equals θ − α(F + λI)⁻¹g with F the empirical Fisher of per-example retain gradients', async () => {
    const before = tf.memory().numTensors;
    const opt = influence(golden.woodfisher.options);
    const r = await run(opt, 1);
    expect(r.stats[0].examples).toBe(3);
    expect(maxAbsDiff(r.trajectory[0], golden.woodfisher.after)).toBeLessThan(TOL);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('woodfisher under a mask solves the restricted system and leaves frozen parameters bit-exact', async () => {
    const before = tf.memory().numTensors;
    const opt = influence(golden.woodfisher.options);
    const model = goldenModel();
    const batch = goldenBatch();
    const start = snapshot(model.params);
    const mask = new Map([['lm_head.weight', tf.ones(model.params.get('lm_head.weight')!.shape)]]);
    const grads = gradientsOf(() => lossOf(objective.loss(model, batch, { step: 0 })), model.params);
    const probe = createCurvatureProbe({ model, objective, batch, objectiveContext: { step: 0 } });
    await opt.step(model.params, grads, { step: 0, probe, mask });
    const after = snapshot(model.params);
    expect(maxAbsDiff(after, golden.woodfisherMasked.after)).toBeLessThan(TOL);
    for (const n of NAMES.slice(0, 3)) expect(after[n]).toEqual(start[n]);
    probe.dispose();
    disposeMap(grads);
    disposeMap(mask);
    disposeUnlearnBatch(batch);
    model.dispose();
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cg on finite-difference HVPs equals the dense solve with the exact retain Hessian', async () => {
    const before = tf.memory().numTensors;
    const opt = influence(golden.cg.options);
    const r = await run(opt, 1);
    expect(r.stats[0].negativeCurvature).toBe(0);
    expect(r.stats[0].relativeResidual).toBeLessThan(1e-4);
    // finite differences in fp32 limit agreement: 1e-4 on parameters of size ~1
    expect(maxAbsDiff(r.trajectory[0], golden.cg.after)).toBeLessThan(1e-4);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('finite-difference HVP of the objective vs double backward in PyTorch', () => {
  it('agrees to 5e-4 relative on the toy LM (measured 4e-5)', async () => {
    const before = tf.memory().numTensors;
    const model = goldenModel();
    const batch = goldenBatch();
    const probe = createCurvatureProbe({ model, objective, batch, objectiveContext: { step: 0 } });
    const v = mapFrom(model.params, golden.hvp.v);
    const hv = await probe.hessianVectorProduct(v);
    const got = snapshot(hv);
    const want = golden.hvp.hv as Record<string, number[]>;
    const num = Math.sqrt(NAMES.reduce((s, n) => s + want[n].reduce((a, w, i) => a + (got[n][i] - w) ** 2, 0), 0));
    const den = Math.sqrt(NAMES.reduce((s, n) => s + want[n].reduce((a, w) => a + w * w, 0), 0));
    expect(num / den).toBeLessThan(5e-4);
    disposeMap(v);
    disposeMap(hv);
    probe.dispose();
    disposeUnlearnBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

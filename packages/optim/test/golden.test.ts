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

describe('sophia vs a PyTorch implementation of the paper', () => {
  it('fisher (ĥ = B·g⊙g every step) matches, with the per-step win rate', async () => {
    const before = tf.memory().numTensors;
    const opt = sophia(golden.sophiaFisher.options);
    const r = await run(opt, 3);
    expectTrajectory(r.trajectory, golden.sophiaFisher.trajectory);
    expect(maxAbsDiff(r.state, golden.sophiaFisher.state)).toBeLessThan(1e-4 * 20); // h is O(B·g²) ≈ 10²: relative 1e-5
    r.stats.forEach((s, i) => expect(s.winRate).toBeCloseTo(golden.sophiaFisher.winRate[i], 10));
    for (const w of [...golden.sophiaFisher.winRate, ...golden.sophiaGnb.winRate, ...golden.sophiaHutchinson.winRate]) expect(w > 0.1 && w < 0.9).toBe(true); // both regimes exercised
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gnb with fixed sampled labels matches (ĥ = B·ĝ⊙ĝ every k = 2 steps)', async () => {
    const before = tf.memory().numTensors;
    const queue: number[][] = golden.sophiaGnb.sampled.flatMap((s: { forget: number[]; retain: number[] }) => [s.forget, s.retain]);
    const opt = sophia(golden.sophiaGnb.options);
    // a probe whose GNB draw returns the fixture's labels
    const r = await run(opt, 3, (_step, make) => make({
      sampleLabels: (logits) => {
        const labels = queue.shift()!;
        expect(labels.length).toBe(logits.shape[0]);
        return tf.tensor1d(labels, 'int32') as Tensor1D;
      },
    }));
    expect(queue.length).toBe(0); // two estimates × two parts consumed
    expectTrajectory(r.trajectory, golden.sophiaGnb.trajectory);
    r.stats.forEach((s, i) => expect(s.winRate).toBeCloseTo(golden.sophiaGnb.winRate[i], 10));
    expect(r.stats.map((s) => s.hessianRefreshed)).toEqual([1, 0, 1]);
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
    r.stats.forEach((s, i) => expect(s.winRate).toBeCloseTo(golden.sophiaHutchinson.winRate[i], 10));
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

  it("reproduces OPTML-Group/SOUL's SophiaG run with betas [β1², β2] and batchSize = its bs", async () => {
    const before = tf.memory().numTensors;
    const s = golden.soulSophiaG;
    const opt = sophia({ lr: s.lr, betas: [s.betas[0] ** 2, s.betas[1]], rho: s.rho, weightDecay: s.weightDecay, estimator: 'fisher', batchSize: s.bs });
    const r = await run(opt, 3);
    expectTrajectory(r.trajectory, s.trajectory);
    opt.dispose();
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

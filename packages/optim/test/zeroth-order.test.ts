import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { Trainer, createCurvatureProbe, gradientsOf, memoryCheckpointIO } from '@unlearn/train';
import type { CausalLM, CurvatureProbe, Objective, ParamMap, TensorMap } from '@unlearn/core';
import { zerothOrderGradient, zoAdam, zoSgd, zoSignSgd } from '../src/index.js';
import { tfjsSeed } from '@unlearn/random';
import { mix32, stepSeed } from '../src/options.js';
import { disposeMap, disposeUnlearnBatch, goldenBatch, goldenModel, snapshot, toyGA, tokenBatch } from './helpers.js';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

const flatten = (m: TensorMap, names: string[]) => names.flatMap((n) => Array.from(m.get(n)!.dataSync()));
const norm = (x: number[]) => Math.hypot(...x);

/** ℓ(θ) = ½ θᵀAθ + bᵀθ over θ = [vec W (2×3), u (4)], as a probe with only loss/lossValue (computed in float64). */
function quadratic() {
  const n = 10;
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 + 0.2 * i : 0.1 * Math.cos(i * j))));
  const b = Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i + 1));
  const W = tf.tidy(() => tf.variable(tf.tensor2d([[0.5, -1, 0.2], [1.5, 0.3, -0.7]]), true, `zq/W${Math.random()}`));
  const u = tf.tidy(() => tf.variable(tf.tensor1d([0.1, -0.4, 0.9, 2.0]), true, `zq/u${Math.random()}`));
  const params: ParamMap = new Map<string, tf.Variable>([['W', W], ['u', u]]);
  const theta = () => [...W.dataSync(), ...u.dataSync()];
  const lossValue = () => {
    const t = theta();
    return 0.5 * t.reduce((s, ti, i) => s + ti * A[i].reduce((a, aij, j) => a + aij * t[j], 0), 0) + b.reduce((s, bi, i) => s + bi * t[i], 0);
  };
  const trueGrad = () => {
    const t = theta();
    return A.map((row, i) => row.reduce((a, aij, j) => a + aij * t[j], 0) + b[i]);
  };
  const probe = { loss: () => tf.scalar(lossValue()), lossValue: async () => lossValue() } as unknown as CurvatureProbe;
  return { params, probe, trueGrad, dispose: () => tf.dispose([W, u]) };
}

async function meanAndVariance(params: ParamMap, probe: CurvatureProbe, queries: number, samples: number, seed0: number, mu = 1e-3) {
  const names = [...params.keys()];
  let mean: number[] | undefined;
  const draws: number[][] = [];
  for (let s = 0; s < samples; s++) {
    const { grads } = await zerothOrderGradient(params, probe, { queries, mu, seed: seed0 + s });
    const g = flatten(grads, names);
    disposeMap(grads);
    draws.push(g);
    mean = mean ? mean.map((m, i) => m + g[i] / samples) : g.map((x) => x / samples);
  }
  const variance = draws.reduce((acc, g) => acc + g.reduce((a, x, i) => a + (x - mean![i]) ** 2, 0), 0) / (samples - 1);
  return { mean: mean!, variance };
}

describe('zeroth-order gradient estimate (MeZO two-point, Gaussian directions)', () => {
  it('is unbiased on a quadratic, its variance falls as 1/q, and θ is restored to fp32 round-off', async () => {
    const before = tf.memory().numTensors;
    const q = quadratic();
    const start = snapshot(q.params);
    const g = q.trueGrad();
    const one = await meanAndVariance(q.params, q.probe, 1, 3000, 1);
    expect(norm(one.mean.map((m, i) => m - g[i])) / norm(g)).toBeLessThan(0.08);
    const four = await meanAndVariance(q.params, q.probe, 4, 600, 50_000);
    const ratio = one.variance / four.variance;
    expect(ratio).toBeGreaterThan(3.2);
    expect(ratio).toBeLessThan(4.8);
    // in-place +μz −2μz +μz (MeZO) leaves θ within round-off of where it was, even after 5400 estimates
    const now = snapshot(q.params);
    for (const n of Object.keys(start)) (start as Record<string, number[]>)[n].forEach((v, i) => expect(Math.abs((now as Record<string, number[]>)[n][i] - v)).toBeLessThan(1e-5));
    q.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is unbiased on a tiny softmax model (mean over seeds ≈ the backprop gradient)', async () => {
    const before = tf.memory().numTensors;
    const V = 4, d = 3;
    const phi = tf.tensor2d([[1, 0.5, -0.2], [0.3, -1, 0.8], [-0.6, 0.2, 1.1], [0.9, 0.9, 0.1]]);
    const W = tf.tidy(() => tf.variable(tf.tensor2d([[0.2, -0.5, 0.1], [1.0, 0.3, -0.4], [-0.3, 0.8, 0.6], [0.0, -0.2, 0.9]]), true, 'zs/W'));
    const model: CausalLM = {
      config: { model_type: 'softmax', vocab_size: V, hidden_size: d, num_hidden_layers: 0 },
      params: new Map([['lm_head.weight', W]]),
      forward: ({ inputIds }) => tf.tidy(() => {
        const [b, s] = inputIds.shape;
        return { logits: tf.reshape(tf.matMul(tf.gather(phi, tf.reshape(inputIds, [-1])), W, false, true), [b, s, V]) as Tensor3D };
      }),
      frozenCopy: () => { throw new Error('unused'); },
      dispose: () => W.dispose(),
    };
    const batch = { forget: tokenBatch([[0, 1, 2, 3, 1], [2, 2, 0, 3, 3]]) };
    const probe = createCurvatureProbe({ model, objective: toyGA, batch, objectiveContext: { step: 0 } });
    const exact = gradientsOf(() => toyGA.loss(model, batch, { step: 0 }) as Scalar, model.params);
    const g = flatten(exact, ['lm_head.weight']);
    const { mean } = await meanAndVariance(model.params, probe, 1, 2500, 7, 1e-2);
    const rel = norm(mean.map((m, i) => m - g[i])) / norm(g);
    expect(rel).toBeLessThan(0.12);
    disposeMap(exact);
    probe.dispose();
    disposeUnlearnBatch(batch);
    model.dispose();
    phi.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** The previous implementation: keep θ₀, evaluate at θ₀ ± μz by assigning from it, restore θ₀ exactly (2× the weights). */
async function twoCopyZoSgdStep(params: ParamMap, probe: CurvatureProbe, o: { lr: number; mu: number; queries: number; seed: number }) {
  const names = [...params.keys()];
  const z = (shape: number[], s: number, j: number) => tf.randomNormal(shape, 0, 1, 'float32', tfjsSeed(s, j));
  const originals = new Map(names.map((n) => [n, tf.clone(params.get(n)!)]));
  const projected: number[] = [];
  const seeds: number[] = [];
  for (let i = 0; i < o.queries; i++) {
    const s = mix32(o.seed, i);
    const at = (sign: number) => names.forEach((n, j) => tf.tidy(() => params.get(n)!.assign(tf.add(originals.get(n)!, tf.mul(z(params.get(n)!.shape, s, j), sign * o.mu)))));
    at(1);
    const plus = await probe.lossValue();
    at(-1);
    const minus = await probe.lossValue();
    projected.push((plus - minus) / (2 * o.mu));
    seeds.push(s);
  }
  names.forEach((n, j) => tf.tidy(() => {
    let next: tf.Tensor = originals.get(n)!;
    seeds.forEach((s, i) => (next = tf.sub(next, tf.mul(z(next.shape, s, j), (o.lr * projected[i]) / o.queries))));
    params.get(n)!.assign(next);
  }));
  tf.dispose([...originals.values()]);
}

describe('zo-sgd perturbs in place (MeZO), with no second copy of θ', () => {
  it('its update equals the two-copy implementation to fp32 round-off, and no extra buffer is live during the forwards', async () => {
    const before = tf.memory().numTensors;
    const a = quadratic();
    const b = quadratic();
    for (const [n, v] of b.params) tf.tidy(() => v.assign(tf.add(a.params.get(n)!, 0))); // same values, own buffers
    const buffersAtLoss: number[] = [];
    const spy = { ...a.probe, loss: () => { buffersAtLoss.push(tf.memory().numDataBuffers); return a.probe.loss(); } } as CurvatureProbe;
    const opt = zoSgd({ lr: 0.05, mu: 1e-2, queries: 3 });
    const idle = tf.memory().numDataBuffers;
    const start = snapshot(a.params) as Record<string, number[]>;
    for (let step = 0; step < 4; step++) {
      await opt.step(a.params, new Map(), { step, probe: spy, seed: 100 + step });
      await twoCopyZoSgdStep(b.params, b.probe, { lr: 0.05, mu: 1e-2, queries: 3, seed: stepSeed(100 + step, step) });
    }
    const [x, y] = [snapshot(a.params), snapshot(b.params)] as Record<string, number[]>[];
    let moved = 0;
    for (const n of Object.keys(x)) x[n].forEach((v, i) => { expect(Math.abs(v - y[n][i])).toBeLessThan(1e-5); moved += Math.abs(v - start[n][i]); });
    expect(moved).toBeGreaterThan(1e-2);
    // during every forward pass only θ's own buffers exist, plus the step's earlier loss scalars (k of them before the
    // k-th forward); the old implementation held θ₀ as well: +2 buffers (W, u) at every forward
    expect(buffersAtLoss).toEqual(Array.from({ length: 4 }, () => [0, 1, 2, 3, 4, 5].map((k) => idle + k)).flat());
    opt.dispose();
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('zo optimizers restore θ before updating (the last +μz is folded into the update)', () => {
  it.each([
    ['zo-sgd', () => zoSgd({ lr: 1e-12, mu: 1e-2, queries: 2 })],
    ['zo-adam', () => zoAdam({ lr: 1e-12, mu: 1e-2, queries: 2 })],
    ['zo-sign-sgd', () => zoSignSgd({ lr: 1e-12, mu: 1e-2, queries: 2 })],
  ])('%s with lr → 0 leaves θ where it was (to fp32 round-off), with and without a mask', async (_name, make) => {
    const before = tf.memory().numTensors;
    for (const masked of [false, true]) {
      const q = quadratic();
      const start = snapshot(q.params) as Record<string, number[]>;
      const mask = masked ? new Map([['W', tf.tensor2d([[1, 0, 1], [0, 1, 0]])]]) : undefined;
      const opt = make();
      for (let step = 0; step < 3; step++) await opt.step(q.params, new Map(), { step, probe: q.probe, seed: 9 + step, mask });
      const now = snapshot(q.params) as Record<string, number[]>;
      for (const n of Object.keys(start)) start[n].forEach((v, i) => expect(Math.abs(now[n][i] - v), `${n}[${i}]`).toBeLessThan(1e-6));
      if (mask) expect(now.W.filter((_, i) => [1, 3, 5].includes(i))).toEqual(start.W.filter((_, i) => [1, 3, 5].includes(i)));
      opt.dispose();
      if (mask) tf.dispose([...mask.values()]);
      q.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('zo-sgd, zo-adam, zo-sign-sgd through the Trainer', () => {
  const depthSpy = (inner: Objective, depths: number[]): Objective => ({
    ...inner,
    loss: (m, b, c) => {
      depths.push((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth);
      return inner.loss(m, b, c);
    },
  });

  it.each([
    ['zo-sgd', () => zoSgd({ lr: 0.05, queries: 2 })],
    ['zo-adam', () => zoAdam({ lr: 0.05 })],
    ['zo-sign-sgd', () => zoSignSgd({ lr: 0.01 })],
  ])('%s: no gradient tape, seeded runs bit-reproducible, resume reproduces, GA raises the forget NLL', async (_name, make) => {
    const before = tf.memory().numTensors;
    const batch = goldenBatch();
    const runOnce = async (seed: number, steps: number, extra: Partial<ConstructorParameters<typeof Trainer>[0]> = {}, resume = false, model = goldenModel(), optimizer = make()) => {
      const depths: number[] = [];
      const losses: number[] = [];
      try {
        await new Trainer({ model, objective: depthSpy(toyGA, depths), optimizer, data: [batch], steps, seed, onStep: (e) => void losses.push(e.loss), ...extra }).run({ resume });
        return { depths, losses, params: snapshot(model.params) };
      } finally {
        optimizer.dispose();
        model.dispose();
      }
    };
    const a = await runOnce(3, 8);
    expect(a.depths.every((d) => d === 0)).toBe(true);
    expect(a.depths.length).toBeGreaterThan(8 * 2 - 1); // ≥ 2 forward passes per step
    // GA minimises −NLL(forget): the forget NLL goes up over the run
    expect(-a.losses[7]).toBeGreaterThan(-a.losses[0]);
    const b = await runOnce(3, 8);
    expect(b.params).toEqual(a.params);
    const c = await runOnce(4, 8);
    expect(c.params).not.toEqual(a.params);
    // resume: crash after step 4 with a checkpoint every 2 steps, resume in a fresh model
    const io = memoryCheckpointIO();
    await expect(runOnce(3, 8, { checkpoint: { io, every: 2 }, onStep: (e) => { if (e.step === 4) throw new Error('crash'); } })).rejects.toThrow('crash');
    const resumed = await runOnce(3, 8, { checkpoint: { io, every: 2 } }, true);
    expect(resumed.losses.length).toBe(4);
    expect(resumed.params).toEqual(a.params);
    disposeUnlearnBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    ['zo-sgd', () => zoSgd({ lr: 0.05, queries: 2 })],
    ['zo-adam', () => zoAdam({ lr: 0.05 })],
    ['zo-sign-sgd', () => zoSignSgd({ lr: 0.01 })],
  ])('%s: a NaN loss stops the Trainer BEFORE θ or the optimizer state change', async (_name, make) => {
    const before = tf.memory().numTensors;
    const batch = goldenBatch();
    const model = goldenModel();
    const optimizer = make();
    // finite for the first 2 steps (4+ forward passes each), then NaN: the third step must not move θ
    let calls = 0;
    const nanLater: Objective = { ...toyGA, loss: (m, b, c) => (c.step >= 2 ? tf.tidy(() => tf.mul(toyGA.loss(m, b, c) as Scalar, Number.NaN)) : toyGA.loss(m, b, c)) as Scalar };
    let atTwo: Record<string, number[]> | undefined;
    let stateAtTwo: Record<string, number[]> | undefined;
    try {
      const run = new Trainer({
        model, objective: nanLater, optimizer, data: [batch], steps: 5, seed: 1,
        onStep: (e) => {
          calls++;
          if (e.step === 1) {
            atTwo = snapshot(model.params);
            const st = optimizer.state();
            stateAtTwo = snapshot(st);
            disposeMap(st);
          }
        },
      }).run();
      await expect(run).rejects.toThrow(/step 2: loss is NaN.*stopped before updating the parameters/);
      expect(calls).toBe(2);
      // θ is back where step 2 left it (to fp32 round-off of the in-place ±μz moves), not moved by a NaN update
      const now = snapshot(model.params);
      for (const [name, values] of Object.entries(atTwo!)) {
        expect(now[name].every(Number.isFinite), name).toBe(true);
        expect(Math.max(...now[name].map((v, i) => Math.abs(v - values[i]))), name).toBeLessThan(1e-6);
      }
      const st = optimizer.state();
      expect(snapshot(st)).toEqual(stateAtTwo);
      disposeMap(st);
    } finally {
      optimizer.dispose();
      model.dispose();
      disposeUnlearnBatch(batch);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

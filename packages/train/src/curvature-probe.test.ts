import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { weightedCrossEntropy } from '@unlearn/core';
import { createCurvatureProbe, finiteDifferenceHvp, gradientsOf } from './curvature-probe.js';
import type { CausalLM, ParamMap, TensorMap } from '@unlearn/core';
import { createToyLM, disposeUnlearnBatch, meanNll, tokenBatch, toyGradDiff, toyWeights } from '@unlearn/test-utils';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

const disposeMap = (m: TensorMap) => tf.dispose([...m.values()]);
const arr = (t: Tensor) => Array.from(t.dataSync());

describe('finiteDifferenceHvp', () => {
  it('equals the analytic A·v on a quadratic and restores the parameters bit-exactly', async () => {
    const before = tf.memory().numTensors;
    // ℓ(θ) = ½ θᵀAθ + bᵀθ over θ = [vec(W) (2×2); u (3)] — H = A exactly, so only round-off remains.
    const n = 7;
    const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 3 + i : 0.3 * Math.sin(i + 2 * j) + 0.3 * Math.sin(j + 2 * i))));
    const bVec = Array.from({ length: n }, (_, i) => 0.1 * i - 0.2);
    const W = tf.tidy(() => tf.variable(tf.tensor2d([[0.5, -1.2], [0.3, 2.0]]), true, 'quad/W'));
    const u = tf.tidy(() => tf.variable(tf.tensor1d([0.7, -0.1, 1.5]), true, 'quad/u'));
    const params: ParamMap = new Map<string, tf.Variable>([['W', W], ['u', u]]);
    const Wbefore = W.dataSync().slice();
    const At = tf.tensor2d(A);
    const bt = tf.tensor1d(bVec);
    const loss = () => tf.tidy(() => {
      const theta = tf.concat([tf.reshape(W, [4]), u]);
      const At_theta = tf.squeeze(tf.matMul(At, tf.reshape(theta, [n, 1])));
      return tf.add(tf.mul(0.5, tf.sum(tf.mul(theta, At_theta))), tf.sum(tf.mul(bt, theta))) as Scalar;
    });
    const vW = [[1, -2], [0.5, 0.25]], vu = [3, -1, 0.5];
    const v: TensorMap = new Map<string, Tensor>([['W', tf.tensor2d(vW)], ['u', tf.tensor1d(vu)]]);
    const hv = await finiteDifferenceHvp(loss, params, v);
    const vflat = [...vW.flat(), ...vu];
    const expected = A.map((row) => row.reduce((s, a, j) => s + a * vflat[j], 0));
    const got = [...arr(hv.get('W')!), ...arr(hv.get('u')!)];
    got.forEach((g, i) => expect(g).toBeCloseTo(expected[i], 2));
    const relErr = Math.hypot(...got.map((g, i) => g - expected[i])) / Math.hypot(...expected);
    expect(relErr).toBeLessThan(2e-3);
    expect(Array.from(W.dataSync())).toEqual(Array.from(Wbefore));
    disposeMap(hv);
    disposeMap(v);
    tf.dispose([W, u, At, bt]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a direction with an unknown name or shape', async () => {
    const W = tf.tidy(() => tf.variable(tf.zeros([2, 2]), true, 'quad/W2'));
    const params: ParamMap = new Map([['W', W]]);
    const v1: TensorMap = new Map([['X', tf.zeros([2, 2])]]);
    const v2: TensorMap = new Map([['W', tf.zeros([3])]]);
    await expect(finiteDifferenceHvp(() => tf.sum(W) as Scalar, params, v1)).rejects.toThrow(/"X", which is not a parameter/);
    await expect(finiteDifferenceHvp(() => tf.sum(W) as Scalar, params, v2)).rejects.toThrow(/v\["W"\] has shape \[3\], the parameter \[2,2\]/);
    tf.dispose([W, ...v1.values(), ...v2.values()]);
  });
});

describe('weightedCrossEntropy (custom op)', () => {
  it('has the value and gradient of ordinary softmax cross-entropy', () => {
    const before = tf.memory().numTensors;
    const logits = tf.tensor2d([[0.1, 2.0, -1.0], [1.5, 0.2, 0.3], [0.0, 0.0, 3.0]]);
    const labels = tf.tensor1d([1, 0, -100], 'int32');
    const w = tf.tensor1d([1, 0.5, 0]);
    const f1 = (x: Tensor) => weightedCrossEntropy(x as Tensor2D, labels as Tensor1D, w as Tensor1D);
    const f2 = (x: Tensor) => tf.tidy(() => {
      const lp = tf.logSoftmax(x);
      const oh = tf.oneHot(tf.tensor1d([1, 0, 0], 'int32'), 3);
      return tf.neg(tf.sum(tf.mul(tf.sum(tf.mul(lp, oh), 1), w))) as Scalar;
    });
    const a = tf.valueAndGrad(f1)(logits);
    const b = tf.valueAndGrad(f2)(logits);
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0], 6);
    arr(a.grad).forEach((g, i) => expect(g).toBeCloseTo(arr(b.grad)[i], 6));
    tf.dispose([logits, labels, w, a.value, a.grad, b.value, b.grad]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('createCurvatureProbe on the toy LM', () => {
  const forgetIds = [[1, 2, 3, 4, 5], [0, 3, 3, 1, 2]];
  const forgetLabels = [[-100, -100, 3, 4, 5], [-100, 3, 3, 1, -100]];
  const retainIds = [[2, 2, 1, 0, 4], [5, 4, 3, 2, 1], [1, 1, 1, 2, 2]];
  const retainLabels = [[-100, 2, 1, 0, 4], [-100, -100, -100, 2, 1], [-100, -100, -100, -100, -100]];
  const makeBatch = () => ({ forget: tokenBatch(forgetIds, forgetLabels), retain: tokenBatch(retainIds, retainLabels) });

  it('counts loss-bearing tokens, evaluates the loss forward-only, and matches ordinary autodiff for fixed labels', async () => {
    const before = tf.memory().numTensors;
    const model = createToyLM(toyWeights(6, 4, 3));
    const batch = makeBatch();
    const objective = toyGradDiff(1, 1);
    const fixed = [[1, 2, 3, 4, 5, 0, 1, 2, 3, 4], [5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4, 5, 0, 1, 2]];
    let call = 0;
    const probe = createCurvatureProbe({
      model, objective, batch, objectiveContext: { step: 0 },
      sampleLabels: (logits) => tf.tensor1d(fixed[call++ % 2].slice(0, logits.shape[0]), 'int32'),
    });
    // forget: labels shifted → row0 [_,3,4,5,∅] = 3 tokens, row1 [3,3,1,∅,∅] = 3; retain: row0 4, row1 2, row2 0 → 15
    expect(await probe.batchTokens()).toBe(6 + 6);
    const expectedLoss = tf.tidy(() => (objective.loss(model, batch, { step: 0 }) as { loss: Scalar }).loss.dataSync()[0]);
    expect(await probe.lossValue()).toBeCloseTo(expectedLoss, 6);
    // GNB gradient with fixed ŷ = gradient of the mean CE of the model at those labels (ordinary ops)
    const g = probe.sampledLabelGrads(42);
    const refBatch = (ids: number[][], sampled: number[]) =>
      // label at position t+1 = sampled label of position t, where the original shifted label was loss-bearing
      tokenBatch(ids, ids.map((row, r) => row.map((_, t) => (t === 0 ? -100 : sampled[r * row.length + t - 1]))));
    const fb = refBatch(forgetIds, fixed[0]);
    const rb = refBatch(retainIds, fixed[1]);
    const keepMask = (labels: number[][]) => labels.map((row) => row.map((l, t) => (t === 0 ? -100 : l === -100 ? -100 : 0)));
    const masked = (b: ReturnType<typeof tokenBatch>, labels: number[][]) => {
      const m = keepMask(labels);
      const lab = b.labels.arraySync() as number[][];
      const out = tokenBatch(b.inputIds.arraySync() as number[][], lab.map((row, r) => row.map((l, t) => (m[r][t] === -100 ? -100 : l))));
      disposeUnlearnBatch({ forget: b });
      return out;
    };
    const fbm = masked(fb, forgetLabels), rbm = masked(rb, retainLabels);
    const params: ParamMap = model.params;
    const ref = gradientsOf(() => tf.tidy(() => {
      const f = tf.mul(meanNll(model, fbm), 6), r = tf.mul(meanNll(model, rbm), 6);
      return tf.div(tf.add(f, r), 12) as Scalar;
    }), params);
    for (const [name, t] of g) {
      const a = arr(t), b = arr(ref.get(name)!);
      a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 5));
    }
    expect(Math.max(...[...g.values()].map((t) => Math.max(...arr(t).map(Math.abs))))).toBeGreaterThan(1e-3);
    disposeMap(g);
    disposeMap(ref);
    disposeUnlearnBatch({ forget: fbm, retain: rbm });
    // retain curvature: per-example gradients average (token-weighted) to the mean-NLL gradient; the empty row is skipped
    const retain = probe.retain!;
    expect(await retain.examples()).toBe(2);
    const per = await retain.perSampleGradients();
    expect(per.length).toBe(2);
    const mean = retain.gradients();
    for (const [name, t] of mean) {
      const combined = tf.tidy(() => tf.div(tf.add(tf.mul(per[0].get(name)!, 4), tf.mul(per[1].get(name)!, 2)), 6));
      arr(combined).forEach((x, i) => expect(x).toBeCloseTo(arr(t)[i], 5));
      combined.dispose();
    }
    per.forEach(disposeMap);
    disposeMap(mean);
    probe.dispose();
    disposeUnlearnBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('GNB: E[B·ĝ⊙ĝ] over sampled labels equals the exact Gauss-Newton diagonal (Monte Carlo)', async () => {
    const before = tf.memory().numTensors;
    // Softmax LM with fixed features: logits_t = W·φ(x_t), W [V, d] the only parameter. GN of the mean CE:
    // G[k,j] = (1/B) Σ_t φ_tj² p_tk (1 − p_tk)  (Jacobian of logits_t[k] w.r.t. W[k,j] is φ_tj).
    const V = 4, d = 3;
    const phi = tf.tensor2d([[1, 0.5, -0.2], [0.3, -1, 0.8], [-0.6, 0.2, 1.1], [0.9, 0.9, 0.1]]);
    const W = tf.tidy(() => tf.variable(tf.tensor2d([[0.2, -0.5, 0.1], [1.0, 0.3, -0.4], [-0.3, 0.8, 0.6], [0.0, -0.2, 0.9]]), true, 'gnb/W'));
    const model: CausalLM = {
      config: { model_type: 'softmax', vocab_size: V, hidden_size: d, num_hidden_layers: 0 },
      params: new Map([['lm_head.weight', W]]),
      forward: ({ inputIds }) => tf.tidy(() => {
        const [b, s] = inputIds.shape;
        const f = tf.gather(phi, tf.reshape(inputIds, [-1]));
        return { logits: tf.reshape(tf.matMul(f, W, false, true), [b, s, V]) as Tensor3D };
      }),
      frozenCopy: () => { throw new Error('unused'); },
      dispose: () => W.dispose(),
    };
    const ids = [[0, 1, 2, 3, 1], [2, 2, 0, 3, 3]];
    const batch = { forget: tokenBatch(ids, ids.map((r) => r.map((x, t) => (t === 2 ? -100 : x)))) };
    const objective = { name: 'nll', needs: {}, loss: () => tf.scalar(0) };
    const probe = createCurvatureProbe({ model, objective, batch, objectiveContext: { step: 0 } });
    const B = await probe.batchTokens();
    expect(B).toBe(6); // 4 positions per row minus position 1 (label at t=2 ignored)
    // exact GN diagonal from the model's probabilities at loss-bearing positions (t where label t+1 counts)
    const logits = model.forward(batch.forget).logits;
    const p = tf.tidy(() => tf.softmax(logits).arraySync() as number[][][]);
    const feats = phi.arraySync() as number[][];
    const G = Array.from({ length: V }, () => new Array(d).fill(0));
    ids.forEach((row, r) => row.forEach((x, t) => {
      if (t === row.length - 1 || t + 1 === 2) return;
      for (let k = 0; k < V; k++) for (let j = 0; j < d; j++) G[k][j] += (feats[x][j] ** 2 * p[r][t][k] * (1 - p[r][t][k])) / B;
    }));
    const samples = 2000;
    const acc = new Float64Array(V * d);
    for (let i = 0; i < samples; i++) {
      const g = probe.sampledLabelGrads(1000 + i);
      const gw = g.get('lm_head.weight')!.dataSync();
      for (let k = 0; k < acc.length; k++) acc[k] += (B * gw[k] * gw[k]) / samples;
      disposeMap(g);
    }
    const exact = G.flat();
    const rel = Math.hypot(...exact.map((e, k) => acc[k] - e)) / Math.hypot(...exact);
    expect(rel).toBeLessThan(0.06);
    tf.dispose([logits, phi]);
    probe.dispose();
    disposeUnlearnBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('gaussNewtonGrads: the objective says what its curvature is', () => {
  const setup = () => {
    const model = createToyLM(toyWeights(5, 4, 3));
    const batch = { forget: tokenBatch([[1, 2, 3, 4], [0, 3, 1, 2]], [[-100, 2, 3, 4], [-100, -100, 1, 2]]), retain: tokenBatch([[2, 2, 1, 0]], [[-100, 2, 1, 0]]) };
    return { model, batch };
  };

  it('is ∇ of objective.curvature.sampledLoss(seed) for a gauss-newton objective, and null for one that declares none', () => {
    const before = tf.memory().numTensors;
    const { model, batch } = setup();
    const base = toyGradDiff(1, 1);
    // a stand-in curvature: any scalar of the model works for checking that the probe differentiates it with the seed
    const seen: number[] = [];
    const gn = { ...base, curvature: { kind: 'gauss-newton' as const, sampledLoss: (m: CausalLM, b: typeof batch, _c: unknown, seed: number) => { seen.push(seed); return meanNll(m, b.forget); } } };
    const probe = createCurvatureProbe({ model, objective: gn, batch, objectiveContext: { step: 0 } });
    const got = probe.gaussNewtonGrads!(1234)!;
    expect(seen).toEqual([1234]);
    const want = gradientsOf(() => meanNll(model, batch.forget), model.params);
    for (const [name, g] of want) expect(arr(got.get(name)!)).toEqual(arr(g));
    probe.dispose();
    const none = createCurvatureProbe({ model, objective: { ...base, curvature: { kind: 'none', reason: 'test' } }, batch, objectiveContext: { step: 0 } });
    expect(none.gaussNewtonGrads!(1)).toBeNull();
    none.dispose();
    disposeMap(got);
    disposeMap(want);
    disposeUnlearnBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without a declared curvature it is the CE of the loss tokens with weight 1/√B: sampledLabelGrads·√B', async () => {
    const before = tf.memory().numTensors;
    const { model, batch } = setup();
    const probe = createCurvatureProbe({ model, objective: toyGradDiff(1, 1), batch, objectiveContext: { step: 0 } });
    const B = await probe.batchTokens();
    expect(B).toBe(8); // shifted labels: 3 + 2 forget, 3 retain
    const gn = probe.gaussNewtonGrads!(99)!;
    const legacy = probe.sampledLabelGrads(99);
    for (const [name, g] of legacy) arr(g).forEach((x, i) => expect(arr(gn.get(name)!)[i]).toBeCloseTo(x * Math.sqrt(B), 5));
    disposeMap(gn);
    disposeMap(legacy);
    probe.dispose();
    disposeUnlearnBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

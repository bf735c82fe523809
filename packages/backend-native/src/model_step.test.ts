// A whole transformer training step on `native` against `cpu`: loss and every parameter gradient; the fused
// AdamW against its formula in float64; and the buffer pool never handing out memory a tensor or caller still holds.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { matmul } from '@unlearn/tensors';
import { fusedAdamW, fusedSophia, registerNativeBackend } from './index.js';
import { maxRelError, randn } from './test-utils/parity.js';
import { addonBuilt as built } from './test-utils/native-suite.js';

// Skipped only where the addon could not build (no g++); in CI (and with UNLEARN_REQUIRE_NATIVE=1) a missing addon fails.
const C = { V: 64, D: 32, H: 2, T: 16, B: 2, L: 2 };

/** A tiny GPT (same blocks as bench/speed-native/gpt.mjs): loss and the gradient of every parameter. */
function gptStep(params: Map<string, Float32Array>, shapes: Map<string, number[]>, ids: Int32Array, targets: Int32Array) {
  const { V, D, H, T, B, L } = C;
  const HD = D / H, BT = B * T;
  const vars = tf.tidy(() => [...params].map(([name, v]) => tf.variable(tf.tensor(v, shapes.get(name)), true, `${name}_${tf.getBackend()}`)));
  const p = (name: string) => vars[[...params.keys()].indexOf(name)];
  const x = tf.tensor1d(ids, 'int32');
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(targets, 'int32'), V));
  const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
  const layerNorm = (h: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const xc = tf.sub(h, tf.mean(h, -1, true));
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), 1e-5))), g), b);
  };
  const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, HD]), [0, 2, 1, 3]), [B * H, T, HD]);
  const loss = () => {
    let h = tf.reshape(tf.add(tf.reshape(tf.gather(p('wte'), x), [B, T, D]), p('wpe')), [BT, D]);
    for (let l = 0; l < L; l++) {
      const [q, k, v] = tf.split(tf.add(matmul(layerNorm(h, p(`ln1g${l}`), p(`ln1b${l}`)), p(`wqkv${l}`)), p(`bqkv${l}`)), 3, 1);
      // raw tf.matMul with transposeB here (BatchMatMul's own transposed paths); @unlearn/tensors' matmul elsewhere
      const s = tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(HD)), mask);
      const o = matmul(tf.softmax(s), heads(v));
      h = tf.add(h, tf.add(matmul(tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, HD]), [0, 2, 1, 3]), [BT, D]), p(`wo${l}`)), p(`bo${l}`)));
      const m = layerNorm(h, p(`ln2g${l}`), p(`ln2b${l}`));
      const fc = tf.add(matmul(m, p(`wfc${l}`)), p(`bfc${l}`));
      const gelu = tf.mul(tf.mul(fc, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(fc, tf.mul(tf.pow(fc, 3), 0.044715)), Math.sqrt(2 / Math.PI)))));
      h = tf.add(h, tf.relu(tf.add(matmul(gelu, p(`wpr${l}`)), p(`bpr${l}`))));
    }
    const logits = matmul(layerNorm(h, p('lnfg'), p('lnfb')), p('wte'), false, true);
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss, vars);
  const out = {
    loss: value.dataSync()[0],
    grads: new Map([...params.keys()].map((name, i) => [name, Float32Array.from(grads[vars[i].name].dataSync())])),
  };
  tf.dispose([value, ...Object.values(grads), ...vars, x, y, mask]);
  return out;
}

function initParams() {
  const { V, D, T, L } = C;
  const shapes = new Map<string, number[]>([['wte', [V, D]], ['wpe', [T, D]], ['lnfg', [D]], ['lnfb', [D]]]);
  for (let l = 0; l < L; l++) {
    for (const [n, s] of Object.entries({ ln1g: [D], ln1b: [D], wqkv: [D, 3 * D], bqkv: [3 * D], wo: [D, D], bo: [D],
      ln2g: [D], ln2b: [D], wfc: [D, 4 * D], bfc: [4 * D], wpr: [4 * D, D], bpr: [D] })) shapes.set(`${n}${l}`, s);
  }
  let seed = 100;
  const params = new Map([...shapes].map(([name, s]) => {
    const n = s.reduce((a, b) => a * b, 1);
    const v = name.includes('ln') && name.endsWith(`g${name.at(-1)}`) || name === 'lnfg'
      ? Float32Array.from(randn(n, seed++, 0.1), (e) => 1 + e)
      : randn(n, seed++, 0.2);
    return [name, v];
  }));
  return { params, shapes };
}

describe.skipIf(!built)('native backend in a training step', () => {
  beforeAll(() => {
    registerNativeBackend();
  });

  it('loss and all parameter gradients of a 2-layer GPT step agree with cpu', async () => {
    const { params, shapes } = initParams();
    const ids = Int32Array.from({ length: C.B * C.T }, (_, i) => (i * 37 + 5) % C.V);
    const targets = Int32Array.from({ length: C.B * C.T }, (_, i) => (i * 11 + 3) % C.V);
    const results: Record<string, ReturnType<typeof gptStep>> = {};
    for (const backend of ['cpu', 'native']) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const dataBefore = tf.engine().backend.numDataIds();
      results[backend] = gptStep(params, shapes, ids, targets);
      expect(tf.memory().numTensors, `tensors leaked on ${backend}`).toBe(before);
      expect(tf.engine().backend.numDataIds(), `backend data leaked on ${backend}`).toBe(dataBefore);
    }
    const { cpu, native } = results;
    expect(Math.abs(native.loss - cpu.loss)).toBeLessThan(1e-4);
    expect(cpu.loss).toBeGreaterThan(3); // ~ln 64: a real, untrained loss
    for (const [name, g] of cpu.grads) {
      const scale = Math.max(...g.map(Math.abs));
      expect(scale, `${name} has a gradient`).toBeGreaterThan(0);
      const err = maxRelError(native.grads.get(name)!.map((v) => v / scale), g.map((v) => v / scale));
      expect(err, `gradient of ${name}`).toBeLessThan(1e-4);
    }
  });

  it('fusedAdamW follows AdamW (decoupled decay, bias correction) over three steps', async () => {
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const n = 40_000; // above the threading grain
    const p0 = randn(n, 1), gs = [randn(n, 2), randn(n, 3, 0.1), randn(n, 4, 10)];
    const [param, m, v] = tf.tidy(() => [
      tf.variable(tf.tensor1d(p0), true, 'adamw.p'), tf.variable(tf.zeros([n]), false, 'adamw.m'), tf.variable(tf.zeros([n]), false, 'adamw.v'),
    ]);
    const o = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 };
    // reference in float64: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p(1−ηλ) − η m̂ / (√v̂ + ε)
    const P = Float64Array.from(p0), M = new Float64Array(n), Vv = new Float64Array(n);
    gs.forEach((g, t) => {
      const grad = tf.tensor1d(g);
      fusedAdamW(param, grad, m, v, { ...o, step: t + 1 });
      grad.dispose();
      const bc1 = 1 - o.beta1 ** (t + 1), bc2 = 1 - o.beta2 ** (t + 1);
      for (let i = 0; i < n; i++) {
        M[i] = o.beta1 * M[i] + (1 - o.beta1) * g[i];
        Vv[i] = o.beta2 * Vv[i] + (1 - o.beta2) * g[i] * g[i];
        P[i] = P[i] * (1 - o.lr * o.weightDecay) - (o.lr * M[i] / bc1) / (Math.sqrt(Vv[i] / bc2) + o.eps);
      }
    });
    const got = param.dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - P[i]));
    expect(worst).toBeLessThan(1e-5);
    expect(maxRelError(Float32Array.from(m.dataSync()), Float32Array.from(M))).toBeLessThan(1e-5);
    const wrong = tf.zeros([3]);
    expect(() => fusedAdamW(param, wrong, m, v, { lr: 1, step: 1 })).toThrow(/grad has shape \[3\] but param "adamw.p" has \[40000\]/);
    tf.dispose([param, m, v, wrong]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fusedSophia follows Sophia (Alg. 3: EMA of ĥ on refresh steps, clipped m / max(ρh, ε), decay) over three steps', async () => {
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const n = 50_000;
    const p0 = randn(n, 11), gs = [randn(n, 12), randn(n, 13, 0.1), randn(n, 14, 3)];
    // estimates on steps 1 and 3 (k = 2); |ĥ| spread over decades so that some entries clip and some do not
    const hats = [Float32Array.from(randn(n, 15), (x) => Math.abs(x) * 40), null, Float32Array.from(randn(n, 16), (x) => x * x * 100)];
    const [param, m, h] = tf.tidy(() => [
      tf.variable(tf.tensor1d(p0), true, 'sophia.p'), tf.variable(tf.zeros([n]), false, 'sophia.m'), tf.variable(tf.zeros([n]), false, 'sophia.h'),
    ]);
    const o = { lr: 0.01, beta1: 0.965, beta2: 0.99, rho: 0.04, eps: 1e-12, weightDecay: 0.1 };
    // reference in float64
    const P = Float64Array.from(p0), M = new Float64Array(n), H = new Float64Array(n);
    gs.forEach((g, t) => {
      const grad = tf.tensor1d(g);
      const est = hats[t] ? tf.tensor1d(hats[t]!) : undefined;
      const wins = fusedSophia(param, grad, m, h, { ...o, hessianEstimate: est });
      tf.dispose([grad, ...(est ? [est] : [])]);
      let expectedWins = 0;
      for (let i = 0; i < n; i++) {
        if (hats[t]) H[i] = o.beta2 * H[i] + (1 - o.beta2) * hats[t]![i];
        M[i] = o.beta1 * M[i] + (1 - o.beta1) * g[i];
        const denom = o.rho * H[i];
        const r = Math.max(-1, Math.min(1, M[i] / Math.max(denom, o.eps)));
        P[i] = P[i] * (1 - o.lr * o.weightDecay) - o.lr * r;
        if (Math.abs(M[i]) < denom) expectedWins++;
      }
      // float32 vs float64 may flip entries sitting exactly at the clip boundary
      expect(Math.abs(wins - expectedWins), `step ${t + 1}: ${wins} vs ${expectedWins} unclipped`).toBeLessThanOrEqual(n * 1e-4);
      // the data exercise both branches of the clip
      expect(expectedWins, `step ${t + 1} unclipped`).toBeGreaterThan(0.05 * n);
      expect(expectedWins, `step ${t + 1} unclipped`).toBeLessThan(0.95 * n);
    });
    const got = param.dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - P[i]));
    expect(worst).toBeLessThan(1e-5);
    expect(maxRelError(Float32Array.from(h.dataSync()), Float32Array.from(H))).toBeLessThan(1e-5);
    const wrong = tf.zeros([3]);
    expect(() => fusedSophia(param, wrong, m, h, { lr: 1 })).toThrow(/grad has shape \[3\] but param "sophia.p" has \[50000\]/);
    tf.dispose([param, m, h, wrong]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pooled memory is never reused while a tensor, a view of it, or a dataSync() result still holds it', async () => {
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const shape = [4, 5, 20_000]; // 400k floats: pooled
    const a = tf.tidy(() => tf.exp(tf.tensor(randn(400_000, 9), shape)));
    const expectedView = a.dataSync().slice(100_000, 140_000);
    // two partial axes: tfjs-backend-cpu's Slice returns a subarray VIEW of a's buffer
    const view = tf.slice(a, [1, 0, 0], [1, 2, 20_000]);
    const read = a.dataSync();
    a.dispose();
    const others = tf.tidy(() => [tf.exp(tf.fill(shape, 2)), tf.exp(tf.fill(shape, 3))]); // would reuse a's array if it were free
    expect(maxRelError(Float32Array.from(view.dataSync()), expectedView)).toBe(0);
    expect(maxRelError(read.slice(100_000, 140_000) as Float32Array, expectedView), 'the caller\'s dataSync() result').toBe(0);
    tf.dispose([view, ...others]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

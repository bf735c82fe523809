// UnlearnCausalAttention (FlashAttention-2 forward + backward, Dao 2023) through @unlearn/tensors' causalAttention: on
// native the addon, on cpu the composed matmul → +bias/causal mask → softmax → matmul the models ran before — the
// output and the gradients in q, k and v must agree (max |a − b| / (1 + |b|) ≤ 1e-4) on every ISA build this CPU runs
// and on 1 and 2 threads, for tq = tk, for queries after cached keys (tq < tk), sizes that are not multiples of the
// 64-row tile, grouped-query heads and a padding bias built as the models build it; the native gradients also match
// central finite differences of the native forward and PyTorch float64 (fixtures/make_attention_golden.py); no leaks.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalAttention } from '@unlearn/tensors';
import { FUSED_KERNEL_NAMES, loadAddon } from './index.js';
import { addonBuilt as built, useNativeBackend } from './test-utils/native-suite.js';
import { input, maxRelError, runOn, type Input } from './test-utils/parity.js';

/** The models' additive bias (transformer.ts stepContext): padding keys −1e9, future keys −2e9; `pad` left-pad counts. */
function paddingBias(pad: number[], tq: number, tk: number): Input {
  const values = new Float32Array(pad.length * tq * tk);
  pad.forEach((p, b) => {
    for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) {
      values[(b * tq + i) * tk + j] = (j < p ? -1e9 : 0) + (j > i + tk - tq ? -2e9 : 0);
    }
  });
  return { shape: [pad.length, 1, tq, tk], values };
}

interface Case { B: number; H: number; G: number; tq: number; tk: number; d: number; scale: number; pad?: number[] }
const cases: Record<string, Case> = {
  square: { B: 2, H: 3, G: 3, tq: 70, tk: 70, d: 13, scale: 0.3 }, // 70 = one full 64-row tile + 6
  prefix: { B: 1, H: 2, G: 2, tq: 37, tk: 101, d: 16, scale: 0.25 }, // 37 queries after 64 cached keys
  grouped: { B: 2, H: 4, G: 2, tq: 19, tk: 19, d: 8, scale: 0.35 }, // two query heads per key/value head
  padded: { B: 2, H: 2, G: 2, tq: 21, tk: 21, d: 12, scale: 0.29, pad: [0, 5] }, // second row left-padded by 5
  paddedPrefix: { B: 2, H: 2, G: 1, tq: 7, tk: 30, d: 9, scale: 0.33, pad: [3, 0] },
};

function inputsOf(c: Case, seed: number): Input[] {
  const xs = [input([c.B, c.H, c.tq, c.d], seed), input([c.B, c.G, c.tk, c.d], seed + 1), input([c.B, c.G, c.tk, c.d], seed + 2),
    input([c.B, c.H, c.tq, c.d], seed + 3)]; // q, k, v, w (the output weights: a generic dO)
  return c.pad ? [...xs, paddingBias(c.pad, c.tq, c.tk)] : xs;
}

const attend = (c: Case, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias?: tf.Tensor) =>
  causalAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, { scale: c.scale, bias: bias as tf.Tensor4D | undefined });

/** [o, dq, dk, dv] of loss = Σ w ⊙ attention(q, k, v). */
const valueAndGrads = (c: Case) => (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor) => {
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) => tf.sum(tf.mul(attend(c, a, b, e, bias), w)))([q, k, v]);
  return [attend(c, q, k, v, bias), ...grads];
};

describe.skipIf(!built)('causal attention (FlashAttention-2) matches the composed ops and finite differences', () => {
  const suite = useNativeBackend();
  const worst = { abs: 0, rel: 0 };

  it.each(Object.keys(cases))('%s: output and dq, dk, dv on every ISA and thread count', async (name) => {
    const c = cases[name];
    const inputs = inputsOf(c, 40);
    const cpu = await runOn('cpu', inputs, valueAndGrads(c));
    for (const isa of suite.isas()) {
      for (const threads of [1, 2]) {
        loadAddon().configure({ isa, threads });
        const native = await runOn('native', inputs, valueAndGrads(c));
        expect(native.shapes).toEqual(cpu.shapes);
        native.values.forEach((v, o) => {
          let abs = 0, rel = 0;
          for (let i = 0; i < v.length; i++) {
            const e = Math.abs(v[i] - cpu.values[o][i]);
            abs = Math.max(abs, e);
            rel = Math.max(rel, e / (1 + Math.abs(cpu.values[o][i])));
          }
          worst.abs = Math.max(worst.abs, abs);
          worst.rel = Math.max(worst.rel, rel);
          expect(rel, `${name} ${isa}×${threads}: ${['o', 'dq', 'dk', 'dv'][o]} differs from cpu by ${rel}`).toBeLessThanOrEqual(1e-4);
          expect(Number.isFinite(abs), `${name} ${isa}×${threads}: non-finite`).toBe(true);
        });
      }
    }
    console.log(`causal attention parity so far: max |Δ| ${worst.abs.toExponential(2)}, max |Δ|/(1+|cpu|) ${worst.rel.toExponential(2)}`);
  });

  it('runs the fused kernel on native (no [tq, tk] probabilities) and leaks nothing', async () => {
    await tf.setBackend('native');
    const c = cases.prefix;
    const xs = inputsOf(c, 50).map((i) => tf.tensor(i.values, i.shape));
    const before = tf.memory().numTensors;
    const info = await tf.profile(() => tf.tidy(() => valueAndGrads(c)(xs[0], xs[1], xs[2], xs[3])));
    tf.dispose(info.result as tf.Tensor[]);
    const { kernelNames } = info;
    expect(kernelNames).toContain(FUSED_KERNEL_NAMES.causalAttention);
    expect(kernelNames).toContain(FUSED_KERNEL_NAMES.causalAttentionGrad);
    expect(kernelNames).not.toContain('Softmax');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xs);
  });

  it('the native gradients match central finite differences of the native forward', async () => {
    await tf.setBackend('native');
    // paddedPrefix, not padded: a query whose whole past is padding has scores −1e9 + x that round to −1e9, so the
    // float function's finite difference is 0 there while both paths return the softmax's analytic gradient
    for (const name of ['prefix', 'grouped', 'paddedPrefix']) {
      const c = cases[name];
      const xs = inputsOf(c, 60).map((i) => tf.tensor(i.values, i.shape));
      const [q, k, v, w, bias] = xs;
      const before = tf.memory().numTensors;
      const loss = (a: tf.Tensor[]) => tf.tidy(() => tf.sum(tf.mul(attend(c, a[0], a[1], a[2], bias), w)).dataSync()[0]);
      const grads = tf.tidy(() => valueAndGrads(c)(q, k, v, w, bias).slice(1).map((g) => g.dataSync()));
      for (let i = 0; i < 3; i++) {
        const base = xs[i].dataSync();
        const h = 1e-2;
        for (const j of [0, 7, Math.floor(base.length / 2), base.length - 1]) {
          const at = (delta: number) => {
            const moved = Float32Array.from(base);
            moved[j] += delta;
            const t = tf.tensor(moved, xs[i].shape);
            const r = loss([q, k, v].map((x, m) => (m === i ? t : x)));
            t.dispose();
            return r;
          };
          const fd = (at(h) - at(-h)) / (2 * h);
          expect(Math.abs(grads[i][j] - fd), `${name} d/d ${'qkv'[i]}[${j}]: ${grads[i][j]} vs finite difference ${fd}`).toBeLessThan(2e-2 * (1 + Math.abs(fd)));
        }
      }
      expect(tf.memory().numTensors, `${name} leaked tensors`).toBe(before);
      tf.dispose(xs);
    }
  });

  it('matches PyTorch (float64 golden: grouped heads, queries after cached keys) on every ISA, values and gradients', async () => {
    const g = JSON.parse(readFileSync(new URL('../fixtures/attention_golden.json', import.meta.url), 'utf8')) as
      { scale: number; q: number[]; k: number[]; v: number[]; w: number[]; qShape: number[]; kvShape: number[]; o: number[]; grads: number[][] };
    await tf.setBackend('native');
    for (const isa of suite.isas()) {
      loadAddon().configure({ isa });
      const before = tf.memory().numTensors;
      const [q, k, v, w] = [tf.tensor(g.q, g.qShape), tf.tensor(g.k, g.kvShape), tf.tensor(g.v, g.kvShape), tf.tensor(g.w, g.qShape)];
      const c = { scale: g.scale } as Case;
      const outs = tf.tidy(() => valueAndGrads(c)(q, k, v, w));
      [g.o, ...g.grads].forEach((want, i) => expect(maxRelError(outs[i].dataSync() as Float32Array, Float32Array.from(want)), `${isa} ${['o', 'dq', 'dk', 'dv'][i]}`).toBeLessThan(2e-5));
      tf.dispose([q, k, v, w, ...outs]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

// The fused kernels (UnlearnPickLogProb, UnlearnRmsNorm, UnlearnRope, UnlearnSwiGlu, UnlearnLayerNorm, UnlearnGeluTanh,
// UnlearnCausalSoftmax; UnlearnCausalAttention in causal-attention.test.ts) through @unlearn/tensors' ops: on native
// they run the addon, on cpu the ops compose tf ops — values and gradients must agree (within 1e-4), on every
// instruction-set build this CPU runs (AVX2 included on an AVX-512 machine) and on 1 and 2 threads; the native
// gradients also match central finite differences of the native forward, the LayerNorm / GELU / causal-softmax values
// and gradients match PyTorch's (fixtures/make_fused_golden.py, float64), and the profile shows the fused kernels ran.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalAttention, causalSoftmax, geluTanh, layerNorm, pickLogProb, rmsNorm, rope, swiglu } from '@unlearn/tensors';
import { FUSED_KERNEL_NAMES, loadAddon } from './index.js';
import { addonBuilt as built, useNativeBackend } from './test-utils/native-suite.js';
import { expectParity, input, maxRelError, randn } from './test-utils/parity.js';

const labelsInput = (n: number, v: number, seed: number) => ({
  shape: [n], dtype: 'int32' as const, values: Int32Array.from(randn(n, seed), (x, i) => Math.abs(Math.floor(x * 1000 + i * 7)) % v),
});

// f and its gradient in every input that is differentiable; `w` weights each output element (a generic dy)
const ops = {
  pickLogProb: { inputs: () => [input([37, 301], 1, 3), labelsInput(37, 301, 2), input([37], 3)],
    f: (x: tf.Tensor, y: tf.Tensor) => pickLogProb(x as tf.Tensor2D, y as tf.Tensor1D), diff: [0] },
  rmsNorm: { inputs: () => [input([45, 70], 4), input([70], 5), input([45, 70], 6)],
    f: (x: tf.Tensor, w: tf.Tensor) => rmsNorm(x, w, 1e-5), diff: [0, 1] },
  rmsNorm3d: { inputs: () => [input([3, 5, 33], 7, 0.1), input([33], 8), input([3, 5, 33], 9)],
    f: (x: tf.Tensor, w: tf.Tensor) => rmsNorm(x, w, 1e-6), diff: [0, 1] },
  // 12 tokens, 3 heads of 8; cos/sin of arbitrary angles, [rows, 1, d] as the Llama passes them
  rope: { inputs: () => [input([12, 24], 13), input([12, 8], 14, 3), input([12, 24], 15)],
    f: (x: tf.Tensor, ang: tf.Tensor) => rope(x as tf.Tensor2D, 3, tf.reshape(tf.cos(ang), [12, 1, 8]), tf.reshape(tf.sin(ang), [12, 1, 8])), diff: [0] },
  swiglu: { inputs: () => [input([29, 130], 10, 4), input([29, 130], 11), input([29, 130], 12)],
    f: (g: tf.Tensor, u: tf.Tensor) => swiglu(g, u), diff: [0, 1] },
  layerNorm: { inputs: () => [input([45, 70], 16, 3), input([70], 17), input([70], 18), input([45, 70], 19)],
    f: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x, g, b, 1e-5), diff: [0, 1, 2] },
  layerNorm3d: { inputs: () => [input([3, 5, 33], 20, 0.1), input([33], 21), input([33], 22), input([3, 5, 33], 23)],
    f: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x, g, b, 1e-6), diff: [0, 1, 2] },
  // 300×256 rows ≥ 2 × the addon's 32K-element grain: at 2 threads the weight gradients are summed from per-thread parts
  layerNormThreaded: { inputs: () => [input([300, 256], 30, 2), input([256], 31), input([256], 32), input([300, 256], 33)],
    f: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x, g, b, 1e-5), diff: [0, 1, 2] },
  rmsNormThreaded: { inputs: () => [input([300, 256], 34, 2), input([256], 35), input([300, 256], 36)],
    f: (x: tf.Tensor, w: tf.Tensor) => rmsNorm(x, w, 1e-5), diff: [0, 1] },
  gelu: { inputs: () => [input([29, 130], 24, 3), input([29, 130], 25)], f: (x: tf.Tensor) => geluTanh(x), diff: [0] },
  causalSoftmax: { inputs: () => [input([3, 2, 17, 17], 26, 4), input([3, 2, 17, 17], 27)],
    f: (s: tf.Tensor) => causalSoftmax(s, 0.125), diff: [0] },
  causalSoftmaxPrefix: { inputs: () => [input([4, 5, 9], 28, 4), input([4, 5, 9], 29)], // 5 queries after 4 cached keys
    f: (s: tf.Tensor) => causalSoftmax(s, 0.7), diff: [0] },
};
type Op = { inputs: () => ReturnType<typeof input>[]; f: (...xs: tf.Tensor[]) => tf.Tensor; diff: number[] };

describe.skipIf(!built)('fused kernels match tfjs-backend-cpu and finite differences', () => {
  const suite = useNativeBackend();

  it.each(Object.keys(ops))('%s: values and gradients on every ISA and thread count', async (name) => {
    const op = ops[name as keyof typeof ops] as Op;
    for (const isa of suite.isas()) {
      for (const threads of [1, 2]) {
        loadAddon().configure({ isa, threads });
        await expectParity(`${name} ${isa}×${threads}`, op.inputs(), (...xs) => {
          const args = xs.slice(0, -1);
          const w = xs[xs.length - 1];
          const value = op.f(...args);
          const grads = tf.grads((...d: tf.Tensor[]) => {
            const all = args.map((a, i) => (op.diff.includes(i) ? d[op.diff.indexOf(i)] : a));
            return tf.sum(tf.mul(op.f(...all), w));
          })(op.diff.map((i) => args[i]));
          return [value, ...grads];
        });
      }
    }
  });

  it('the native gradients match central finite differences of the native forward', async () => {
    await tf.setBackend('native');
    for (const [name, op] of Object.entries(ops) as [string, Op][]) {
      const inputs = op.inputs();
      const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? 'float32'));
      const args = xs.slice(0, -1), w = xs[xs.length - 1];
      const before = tf.memory().numTensors;
      const loss = (a: tf.Tensor[]) => tf.tidy(() => tf.sum(tf.mul(op.f(...a), w)).dataSync()[0]);
      for (const i of op.diff) {
        const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(op.f(...args.map((a, k) => (k === i ? x : a))), w)))(args[i]).dataSync());
        const base = args[i].dataSync();
        const h = 1e-2;
        for (const j of [0, 7, Math.floor(base.length / 2), base.length - 1]) {
          const plus = Float32Array.from(base), minus = Float32Array.from(base);
          plus[j] += h;
          minus[j] -= h;
          const at = (v: Float32Array) => {
            const t = tf.tensor(v, args[i].shape);
            const a = args.map((x, k) => (k === i ? t : x));
            const r = loss(a);
            t.dispose();
            return r;
          };
          const fd = (at(plus) - at(minus)) / (2 * h);
          expect(Math.abs(g[j] - fd), `${name} d/d input ${i} [${j}]: ${g[j]} vs finite difference ${fd}`).toBeLessThan(2e-2 * (1 + Math.abs(fd)));
        }
      }
      expect(tf.memory().numTensors, `${name} leaked tensors`).toBe(before);
      tf.dispose(xs);
    }
  });

  it('runs the fused kernels on native (a train step would otherwise silently compose tf ops)', async () => {
    await tf.setBackend('native');
    const x = tf.randomNormal([8, 16]), w = tf.ones([16]), labels = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
    const prof = await tf.profile(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const h = rope(swiglu(rmsNorm(a, b, 1e-5), a) as tf.Tensor2D, 2, tf.ones([8, 1, 8]), tf.zeros([8, 1, 8]));
        const n = geluTanh(layerNorm(h, b, b, 1e-5));
        const att = tf.matMul(causalSoftmax(tf.matMul(n, n, false, true), 0.25), n) as tf.Tensor2D;
        const heads = tf.reshape(att, [1, 1, 8, 16]) as tf.Tensor4D;
        const mixed = tf.reshape(causalAttention(heads, heads, heads, { scale: 0.25 }), [8, 16]) as tf.Tensor2D;
        return tf.sum(pickLogProb(mixed, labels));
      })([x, w]);
      tf.dispose(g);
    });
    const names = new Set(prof.kernels.map((k) => k.name));
    for (const k of Object.values(FUSED_KERNEL_NAMES)) expect(names.has(k), `${k} ran`).toBe(true);
    expect(names.has('LogSoftmax') || names.has('Softmax')).toBe(false);
    tf.dispose([x, w, labels]);
  });

  it('LayerNorm, GELU and the causal softmax match PyTorch (float64 goldens) on every ISA, values and gradients', async () => {
    type Case = { x: number[]; w: number[]; shape: number[]; y: number[]; grads: number[][]; gamma?: number[]; beta?: number[]; eps?: number; scale?: number };
    const golden = JSON.parse(readFileSync(new URL('../fixtures/fused_golden.json', import.meta.url), 'utf8')) as Record<string, Case>;
    await tf.setBackend('native');
    const cases: [string, (c: Case, ...xs: tf.Tensor[]) => tf.Tensor, (c: Case) => tf.Tensor[]][] = [
      ['layerNorm', (c, x, g, b) => layerNorm(x, g, b, c.eps!), (c) => [tf.tensor(c.x, c.shape), tf.tensor1d(c.gamma!), tf.tensor1d(c.beta!)]],
      ['gelu', (_c, x) => geluTanh(x), (c) => [tf.tensor(c.x, c.shape)]],
      ['causalSoftmax', (c, x) => causalSoftmax(x, c.scale!), (c) => [tf.tensor(c.x, c.shape)]],
    ];
    for (const isa of suite.isas()) {
      loadAddon().configure({ isa });
      for (const [name, f, make] of cases) {
        const c = golden[name];
        const before = tf.memory().numTensors;
        const xs = make(c);
        const w = tf.tensor(c.w, c.shape);
        const y = tf.tidy(() => f(c, ...xs));
        const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(c, ...a), w)))(xs);
        expect(maxRelError(y.dataSync() as Float32Array, Float32Array.from(c.y)), `${name} ${isa} value`).toBeLessThan(2e-5);
        gs.forEach((g, i) => expect(maxRelError(g.dataSync() as Float32Array, Float32Array.from(c.grads[i])), `${name} ${isa} grad ${i}`).toBeLessThan(1e-4));
        tf.dispose([...xs, w, y, ...gs]);
        expect(tf.memory().numTensors, `${name} leaked tensors`).toBe(before);
      }
    }
  });
});

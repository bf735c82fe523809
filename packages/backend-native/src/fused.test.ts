// The fused kernels (UnlearnPickLogProb, UnlearnRmsNorm, UnlearnRope, UnlearnSwiGlu) through @unlearn/tensors' ops: on native
// they run the addon, on cpu the ops compose tf ops — values and gradients must agree (within 1e-4), on every
// instruction-set build this CPU runs (AVX2 included on an AVX-512 machine) and on 1 and 2 threads; the native
// gradients also match central finite differences of the native forward, and the profile shows the fused kernel ran.
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickLogProb, rmsNorm, rope, swiglu } from '@unlearn/tensors';
import { ADDON_PATH, FUSED_KERNEL_NAMES, loadAddon, registerNativeBackend } from './index.js';
import type { Isa } from './index.js';
import { expectParity, input, randn } from './test-utils/parity.js';

const built = existsSync(ADDON_PATH) || !!process.env.CI || process.env.UNLEARN_REQUIRE_NATIVE === '1';

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
};

describe.skipIf(!built)('fused kernels match tfjs-backend-cpu and finite differences', () => {
  let isas: Isa[] = [];
  let defaults: { isa: Isa; threads: number };
  beforeAll(() => {
    registerNativeBackend();
    const info = loadAddon().info();
    isas = info.supportedIsas;
    defaults = { isa: info.isa, threads: info.threads };
  });
  afterAll(() => {
    loadAddon().configure(defaults);
  });

  it.each(Object.keys(ops))('%s: values and gradients on every ISA and thread count', async (name) => {
    const op = ops[name as keyof typeof ops];
    for (const isa of isas) {
      for (const threads of [1, 2]) {
        loadAddon().configure({ isa, threads });
        await expectParity(`${name} ${isa}×${threads}`, op.inputs(), (...xs) => {
          const args = xs.slice(0, -1);
          const w = xs[xs.length - 1];
          const value = op.f(args[0], args[1]);
          const grads = tf.grads((...d: tf.Tensor[]) => {
            const all = args.map((a, i) => (op.diff.includes(i) ? d[op.diff.indexOf(i)] : a));
            return tf.sum(tf.mul(op.f(all[0], all[1]), w));
          })(op.diff.map((i) => args[i]));
          return [value, ...grads];
        });
      }
    }
  });

  it('the native gradients match central finite differences of the native forward', async () => {
    await tf.setBackend('native');
    for (const [name, op] of Object.entries(ops)) {
      const inputs = op.inputs();
      const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? 'float32'));
      const args = xs.slice(0, -1), w = xs[xs.length - 1];
      const before = tf.memory().numTensors;
      const loss = (a: tf.Tensor[]) => tf.tidy(() => tf.sum(tf.mul(op.f(a[0], a[1]), w)).dataSync()[0]);
      for (const i of op.diff) {
        const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(op.f(i === 0 ? x : args[0], i === 1 ? x : args[1]), w)))(args[i]).dataSync());
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
        return tf.sum(pickLogProb(h, labels));
      })([x, w]);
      tf.dispose(g);
    });
    const names = new Set(prof.kernels.map((k) => k.name));
    for (const k of Object.values(FUSED_KERNEL_NAMES)) expect(names.has(k), `${k} ran`).toBe(true);
    expect(names.has('LogSoftmax') || names.has('Softmax')).toBe(false);
    tf.dispose([x, w, labels]);
  });
});

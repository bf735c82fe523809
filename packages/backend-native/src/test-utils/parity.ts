// Runs the same tfjs computation on the `cpu` backend and on `native` and compares the results element by element.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Deterministic normal-ish values (mulberry32 + Box-Muller). */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  return out;
}

export interface Input {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}

export const input = (shape: number[], seed: number, scale = 1): Input => ({
  shape, values: randn(shape.reduce((a, b) => a * b, 1), seed, scale),
});

export interface Outputs { values: Float32Array[]; shapes: number[][] }

/** fn on `backend`, inputs created there; asserts no tensor leaked. */
export async function runOn(backend: string, inputs: Input[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<Outputs> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const dataBefore = tf.engine().backend.numDataIds();
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? 'float32'));
  const out = tf.tidy(() => fn(...xs));
  const outs = Array.isArray(out) ? out : [out];
  const result = { values: outs.map((o) => Float32Array.from(o.dataSync() as ArrayLike<number>)), shapes: outs.map((o) => o.shape) };
  tf.dispose([...xs, ...outs]);
  expect(tf.memory().numTensors, `tensors leaked on ${backend}`).toBe(before);
  expect(tf.engine().backend.numDataIds(), `backend data leaked on ${backend}`).toBe(dataBefore);
  return result;
}

/** max over elements of |a − b| / (1 + |b|); NaN where exactly one side is NaN. */
export function maxRelError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) {
      if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return NaN;
      continue;
    }
    if (a[i] === b[i]) continue; // equal infinities included
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  }
  return worst;
}

/** Asserts `fn` gives the same shapes and values (within tol) on native as on cpu. */
export async function expectParity(label: string, inputs: Input[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], tol = 1e-4): Promise<void> {
  const cpu = await runOn('cpu', inputs, fn);
  const native = await runOn('native', inputs, fn);
  expect(native.shapes, `${label}: shapes`).toEqual(cpu.shapes);
  native.values.forEach((v, i) => {
    const err = maxRelError(v, cpu.values[i]);
    expect(err, `${label}: output ${i} differs from cpu by ${err}`).toBeLessThanOrEqual(tol);
  });
}

// WoodFisher inverse (Singh & Alistarh 2020; the influence-unlearning solver of Jia et al. 2023 "Model Sparsity Can
// Simplify Machine Unlearning" that SOUL compares against): apply (F + λI)⁻¹ to v, with F = (1/N) Σᵢ gᵢgᵢᵀ the empirical
// Fisher of N per-example retain gradients. N Sherman–Morrison rank-one updates of (λI)⁻¹ give exactly the Woodbury
//   (λI + (1/N)GGᵀ)⁻¹ v = (1/λ)·(v − G (NλI + GᵀG)⁻¹ Gᵀv),   G = [g₁ … g_N],
// so we solve that N×N system (Cholesky in float64) instead of carrying N rank-one corrections: O(N²) dot products
// over the parameters, no d×d matrix, numerically the same inverse.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorMap } from '@unlearn/core';
import { sumScalars } from './scalar-sum.js';

/** Σ over parameters of ⟨a, b⟩, as a tensor scalar. */
function dot(a: TensorMap, b: TensorMap): tf.Scalar {
  return tf.tidy(() => sumScalars([...a].map(([name, x]) => tf.sum(tf.mul(x, b.get(name)!)))) as tf.Scalar);
}

/** Solves S c = b for symmetric positive-definite S (row-major n×n) by Cholesky, in float64. */
export function choleskySolve(S: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = S[i * n + j];
      for (let q = 0; q < j; q++) s -= L[i * n + q] * L[j * n + q];
      if (i === j) {
        if (!(s > 0)) throw new Error(`woodfisher: the ${n}×${n} system is not positive definite (pivot ${s}); raise the damping`);
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let q = 0; q < i; q++) s -= L[i * n + q] * y[q];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let q = i + 1; q < n; q++) s -= L[q * n + i] * x[q];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/**
 * (F + λI)⁻¹ v for F = (1/N) Σ gᵢgᵢᵀ over `perSample` (each map covering v's names). The caller disposes the result.
 * The N(N+1)/2 + N dot products come back in one asynchronous download.
 */
export async function woodfisherSolve(v: TensorMap, perSample: TensorMap[], damping: number): Promise<TensorMap> {
  if (!(damping > 0)) throw new Error(`woodfisher: damping must be > 0, got ${damping}`);
  const n = perSample.length;
  if (n === 0) return new Map([...v].map(([name, x]) => [name, tf.div(x, damping)]));
  const scalars: tf.Scalar[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) scalars.push(dot(perSample[i], perSample[j]));
  for (let i = 0; i < n; i++) scalars.push(dot(perSample[i], v));
  const packed = tf.stack(scalars);
  tf.dispose(scalars);
  let values: Float32Array | Int32Array | Uint8Array;
  try {
    values = await packed.data();
  } finally {
    packed.dispose();
  }
  const S = new Float64Array(n * n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      S[i * n + j] = S[j * n + i] = values[at++];
    }
    S[i * n + i] += n * damping;
  }
  const b = Float64Array.from(values.subarray(at, at + n));
  const c = choleskySolve(S, b, n);
  const out: TensorMap = new Map();
  for (const [name, x] of v) {
    out.set(name, tf.tidy(() => {
      let r = x;
      for (let i = 0; i < n; i++) r = tf.sub(r, tf.mul(perSample[i].get(name)!, c[i]));
      return tf.div(r, damping);
    }));
  }
  return out;
}

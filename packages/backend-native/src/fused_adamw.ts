// One fused AdamW update (Loshchilov & Hutter 2019, Alg. 2, decoupled weight decay) of a parameter and its two
// moment buffers, in place, in one pass of the addon: 1 read of g, read+write of p, m, v — instead of ~12 tfjs ops.
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p·(1 − η·λ) − η·(m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon.js';
import { NATIVE_BACKEND_NAME } from './native_backend.js';

export interface FusedAdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** 1-based step count t (for the bias corrections). */
  step: number;
}

function values(backend: MathBackendCPU, t: tf.Tensor, what: string): Float32Array {
  if (t.isDisposed) throw new Error(`fusedAdamW: ${what} is disposed`);
  const v = backend.data.get(t.dataId).values;
  if (t.dtype !== 'float32' || !(v instanceof Float32Array)) throw new Error(`fusedAdamW: ${what} must be float32 (got ${t.dtype})`);
  return v;
}

/**
 * Updates `param`, `m` and `v` in place (their data change; no tensors are created). Only on the `native` backend
 * (it writes the cpu-style Float32Array storage directly): elsewhere write AdamW from tf ops.
 */
export function fusedAdamW(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, o: FusedAdamWOptions): void {
  if (tf.getBackend() !== NATIVE_BACKEND_NAME) throw new Error(`fusedAdamW: runs on the "native" backend, active is "${tf.getBackend()}"`);
  for (const [t, name] of [[grad, 'grad'], [m, 'm'], [v, 'v']] as const) {
    if (!tf.util.arraysEqual(t.shape, param.shape)) {
      throw new Error(`fusedAdamW: ${name} has shape [${t.shape}] but param "${param.name}" has [${param.shape}]`);
    }
  }
  if (!(o.step >= 1)) throw new Error(`fusedAdamW: step must be ≥ 1 (got ${o.step})`);
  const backend = tf.backend() as MathBackendCPU;
  loadAddon().adamw(values(backend, param, 'param'), values(backend, grad, 'grad'), values(backend, m, 'm'),
    values(backend, v, 'v'), o.lr, o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.eps ?? 1e-8, o.weightDecay ?? 0, o.step);
}

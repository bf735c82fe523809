// One fused Sophia update (Liu et al. 2023, arXiv:2305.14342, Alg. 3 — the form @unlearn/optim's `sophia` runs) of a
// parameter, its momentum and its Hessian EMA, in place, in one pass of the addon, instead of ~15 tfjs ops:
//   h ← β2·h + (1−β2)·ĥ   (only when an estimate ĥ is given: every k-th step)
//   m ← β1·m + (1−β1)·g;   θ ← θ·(1 − η·λ) − η·clip(m / max(ρ·h, ε), −1, 1)
// Returns how many entries were not clipped (|m| < ρ·h), for the win rate. No mask: a masked run uses the optimizer.
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon.js';
import { NATIVE_BACKEND_NAME } from './native_backend.js';

export interface FusedSophiaOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  rho?: number;
  eps?: number;
  weightDecay?: number;
  /** ĥ, this step's diagonal-Hessian estimate (B·ĝ⊙ĝ for GNB); omit between refreshes. */
  hessianEstimate?: tf.Tensor;
}

function values(backend: MathBackendCPU, t: tf.Tensor, what: string): Float32Array {
  if (t.isDisposed) throw new Error(`fusedSophia: ${what} is disposed`);
  const v = backend.data.get(t.dataId).values;
  if (t.dtype !== 'float32' || !(v instanceof Float32Array)) throw new Error(`fusedSophia: ${what} must be float32 (got ${t.dtype})`);
  return v;
}

/** Updates `param`, `m` and (with an estimate) `h` in place; returns the number of entries not clipped. */
export function fusedSophia(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, h: tf.Variable, o: FusedSophiaOptions): number {
  if (tf.getBackend() !== NATIVE_BACKEND_NAME) throw new Error(`fusedSophia: runs on the "native" backend, active is "${tf.getBackend()}"`);
  const others: [tf.Tensor | undefined, string][] = [[grad, 'grad'], [m, 'm'], [h, 'h'], [o.hessianEstimate, 'hessianEstimate']];
  for (const [t, name] of others) {
    if (t && !tf.util.arraysEqual(t.shape, param.shape)) {
      throw new Error(`fusedSophia: ${name} has shape [${t.shape}] but param "${param.name}" has [${param.shape}]`);
    }
  }
  const backend = tf.backend() as MathBackendCPU;
  return loadAddon().sophia(values(backend, param, 'param'), values(backend, grad, 'grad'), values(backend, m, 'm'),
    values(backend, h, 'h'), o.hessianEstimate ? values(backend, o.hessianEstimate, 'hessianEstimate') : null, o.lr,
    o.beta1 ?? 0.965, o.beta2 ?? 0.99, o.rho ?? 0.04, o.eps ?? 1e-15, o.weightDecay ?? 0);
}

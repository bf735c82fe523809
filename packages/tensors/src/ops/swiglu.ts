// SwiGLU's gate (Shazeer 2020, "GLU variants improve Transformer"): silu(gate) ⊙ up, silu(g) = g·σ(g). On a backend
// with the fused UnlearnSwiGlu kernel (native) forward and backward are one pass each; elsewhere the composed tf ops.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { hasKernel, runKernel } from './fused.js';

export const SWIGLU_KERNEL = 'UnlearnSwiGlu';

export function swiglu<T extends Tensor>(gate: T, up: T): T {
  if (!tf.util.arraysEqual(gate.shape, up.shape)) throw new Error(`swiglu: gate [${gate.shape}] and up [${up.shape}] differ in shape`);
  if (hasKernel(SWIGLU_KERNEL) && gate.dtype === 'float32') return runKernel(SWIGLU_KERNEL, { gate, up }) as T;
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as T);
}

// Global-norm gradient clipping (Pascanu et al. 2013; torch.nn.utils.clip_grad_norm_): when ‖g‖₂ over all parameters
// exceeds `maxNorm`, every gradient is scaled by maxNorm / (‖g‖ + 1e-6). The Trainer's `maxGradNorm` does the same.
// The norm comes back with one asynchronous download (`await t.data()`: WebGPU in Node has no synchronous readback).
import * as tf from '@tensorflow/tfjs-core';
import type { TensorMap } from '@unlearn/core';
import { sumScalars } from './scalar-sum.js';

/** Global L2 norm of `grads` (one download). */
export async function globalNorm(grads: TensorMap): Promise<number> {
  if (grads.size === 0) return 0;
  const t = tf.tidy(() => tf.sqrt(sumScalars([...grads.values()].map((g) => tf.sum(tf.square(g))))));
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}

/** Returns NEW tensors (the caller disposes both maps) and the norm before clipping. */
export async function clipByGlobalNorm(grads: TensorMap, maxNorm: number): Promise<{ grads: TensorMap; norm: number }> {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = await globalNorm(grads);
  const scale = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return { grads: new Map([...grads].map(([name, g]) => [name, scale === 1 ? tf.clone(g) : tf.mul(g, scale)])), norm };
}

// Global-norm gradient clipping (Pascanu et al. 2013; torch.nn.utils.clip_grad_norm_): when ‖g‖₂ over all parameters
// exceeds `maxNorm`, every gradient is scaled by maxNorm / (‖g‖ + 1e-6). The Trainer's `maxGradNorm` does the same.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorMap } from '@unlearn/core';

/** Global L2 norm of `grads` (one download). */
export function globalNorm(grads: TensorMap): number {
  if (grads.size === 0) return 0;
  const t = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
  const n = t.dataSync()[0];
  t.dispose();
  return n;
}

/** Returns NEW tensors (the caller disposes both maps) and the norm before clipping. */
export function clipByGlobalNorm(grads: TensorMap, maxNorm: number): { grads: TensorMap; norm: number } {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const scale = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return { grads: new Map([...grads].map(([name, g]) => [name, scale === 1 ? tf.clone(g) : tf.mul(g, scale)])), norm };
}

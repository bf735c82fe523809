// The attention weights of causal self-attention (Vaswani et al. 2017, eq. 1, with the decoder's mask):
// p = softmax(scale·s + M) over the last axis, M = −∞ where key j > query i + (tk − tq). On a backend with the fused
// UnlearnCausalSoftmax kernel (native) scale, mask and softmax are one pass, and the backward
// ds = scale·p⊙(dp − ⟨dp, p⟩) is one pass from the saved p; elsewhere the composed tf ops (mask as a constant).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { hasKernel, runKernel } from './fused.js';

export const CAUSAL_SOFTMAX_KERNEL = 'UnlearnCausalSoftmax';

/** scores [..., tq, tk] (tk ≥ tq: the queries are the last tq of the tk positions), scale > 0. */
export function causalSoftmax<T extends Tensor>(scores: T, scale: number): T {
  if (scores.rank < 2) throw new Error(`causalSoftmax: scores must be [..., tq, tk], got shape [${scores.shape}]`);
  const [tq, tk] = scores.shape.slice(-2);
  if (tk < tq) throw new Error(`causalSoftmax: scores [${scores.shape}] have fewer keys (${tk}) than queries (${tq})`);
  if (!(scale > 0)) throw new Error(`causalSoftmax: scale must be > 0, got ${scale}`);
  if (hasKernel(CAUSAL_SOFTMAX_KERNEL) && scores.dtype === 'float32') return runKernel(CAUSAL_SOFTMAX_KERNEL, { scores }, { scale }) as T;
  return tf.tidy(() => {
    const keep = tf.linalg.bandPart(tf.ones([tq, tk]), -1, tk - tq); // 1 where j ≤ i + tk − tq
    const mask = tf.mul(tf.sub(1, keep), -1e30);
    return tf.softmax(tf.add(tf.mul(scores, scale), mask)) as T;
  });
}

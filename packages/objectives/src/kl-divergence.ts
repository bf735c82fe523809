// KL(p_ref ‖ p_θ) of the next-token distributions, averaged over the real (attention-mask 1) positions: the retain
// term of the TOFU "KL" method (Maini et al. 2024, §4) and open-unlearning's `compute_kl_divergence`. Difference:
// open-unlearning averages over all batch·seq positions, padding included; identical when there is no padding.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { detach } from './detach.js';

/** Σ_v p_ref(v)·(log p_ref(v) − log p_θ(v)), mean over positions with attentionMask = 1. `referenceLogits` is treated as constant. */
export function klToReference(logits: Tensor3D, referenceLogits: Tensor3D, attentionMask: Tensor2D): Scalar {
  if (logits.shape.join() !== referenceLogits.shape.join()) {
    throw new Error(`KL: model logits [${logits.shape}] and reference logits [${referenceLogits.shape}] differ in shape`);
  }
  if (attentionMask.shape.join() !== logits.shape.slice(0, 2).join()) {
    throw new Error(`KL: attentionMask [${attentionMask.shape}] does not match logits [${logits.shape}]`);
  }
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logits);
    const logRef = detach(tf.logSoftmax(referenceLogits));
    const perPosition = tf.sum(tf.mul(tf.exp(logRef), tf.sub(logRef, logP)), 2); // [b, s]
    const mask = tf.cast(attentionMask, 'float32');
    return tf.div(tf.sum(tf.mul(perPosition, mask)), tf.maximum(tf.sum(mask), 1)) as Scalar;
  });
}

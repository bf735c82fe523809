// The tfjs composites transformer code builds (as @unlearn/models and @unlearn/objectives write them), for the
// gradient and parity tests. Functional ops only.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const meanSquare = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight);
}

/** Mean cross-entropy of logits [N, V] against int32 labels [N], −100 ignored; label log-probs picked by one-hot. */
export function crossEntropyOneHot(logits: Tensor, labels: Tensor): Tensor {
  const vocab = logits.shape[logits.rank - 1];
  const valid = tf.notEqual(labels, -100);
  const safe = tf.where(valid, labels, tf.zerosLike(labels));
  const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(safe, vocab)), -1);
  const weight = tf.cast(valid, 'float32');
  return tf.div(tf.neg(tf.sum(tf.mul(picked, weight))), tf.maximum(tf.sum(weight), 1));
}

/** The same loss with the label log-probs picked by gatherND (exercises the GatherNd gradient). */
export function crossEntropyGatherNd(logits: Tensor, labels: Tensor): Tensor {
  const n = labels.size;
  const valid = tf.notEqual(labels, -100);
  const safe = tf.where(valid, labels, tf.zerosLike(labels));
  const indices = tf.stack([tf.range(0, n, 1, 'int32'), safe], 1);
  const picked = tf.gatherND(tf.logSoftmax(logits), indices);
  const weight = tf.cast(valid, 'float32');
  return tf.div(tf.neg(tf.sum(tf.mul(picked, weight))), tf.maximum(tf.sum(weight), 1));
}

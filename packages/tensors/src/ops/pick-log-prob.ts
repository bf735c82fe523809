// log softmax(logits)[label] per row: the log-probability of each row's label, for cross-entropy / NLL.
// On a backend with the fused UnlearnPickLogProb kernel (native) this is x[label] − logsumexp(x) in one pass, and its
// gradient dy·(onehot(label) − softmax(x)) is recomputed from the logits, so no [rows, vocab] probability tensor
// is kept; elsewhere it is tf.logSoftmax followed by a 1-D gather (whose gradient every backend has).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { hasKernel, runKernel } from './fused.js';

export const PICK_LOG_PROB_KERNEL = 'UnlearnPickLogProb';

/** [rows]: log p(labels[r] | logits[r]) for logits [rows, vocab] and int32 labels [rows] in [0, vocab). */
export function pickLogProb(logits: Tensor2D, labels: Tensor1D): Tensor1D {
  if (logits.rank !== 2) throw new Error(`pickLogProb: logits must be [rows, vocab], got shape [${logits.shape}]`);
  if (labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`pickLogProb: labels shape [${labels.shape}] does not match logits [${logits.shape}] (expected [${logits.shape[0]}])`);
  }
  if (labels.dtype !== 'int32') throw new Error(`pickLogProb: labels must be int32, got ${labels.dtype}`);
  if (hasKernel(PICK_LOG_PROB_KERNEL)) {
    return tf.tidy(() => (runKernel(PICK_LOG_PROB_KERNEL, { logits, labels }) as tf.Tensor[])[0] as Tensor1D);
  }
  return tf.tidy(() => {
    const [n, v] = logits.shape;
    const flatIndex = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), labels);
    return tf.gather(tf.reshape(tf.logSoftmax(logits), [n * v]), flatIndex) as Tensor1D;
  });
}

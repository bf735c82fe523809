// Token and sequence log-probabilities of the labelled tokens, in the Hugging Face causal-LM convention:
// `labels` are aligned with `inputIds`, the logits at position t predict the label at t+1 (the shift happens here),
// and label -100 carries no loss (prompt, padding). `meanNll` is exactly HF's `CausalLMOutput.loss`;
// `sequenceLogProb` is minus open-unlearning's `compute_batch_nll` (summed per sequence).
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { pickLogProb } from '@unlearn/tensors';

/** The label value that carries no loss (PyTorch's CrossEntropyLoss `ignore_index`). */
export const IGNORE_INDEX = -100;

export interface TokenLogProbs {
  /** [batch, seq−1]: log p(label_{t+1} | x_≤t); 0 where the label is -100. */
  logProbs: Tensor2D;
  /** [batch, seq−1] float 0/1: 1 where the shifted label carries loss. */
  mask: Tensor2D;
}

function checkShapes(logits: Tensor3D, labels: Tensor2D): void {
  if (logits.rank !== 3) throw new Error(`logits must be [batch, seq, vocab], got shape [${logits.shape}]`);
  if (labels.rank !== 2 || labels.shape[0] !== logits.shape[0] || labels.shape[1] !== logits.shape[1]) {
    throw new Error(`labels shape [${labels.shape}] does not match logits [${logits.shape}] (expected [${logits.shape.slice(0, 2)}])`);
  }
}

/** Per-token log-probabilities of the next-token labels (shifted), masked where the label is -100. */
export function tokenLogProbs(logits: Tensor3D, labels: Tensor2D): TokenLogProbs {
  checkShapes(logits, labels);
  return tf.tidy(() => {
    const [b, s, v] = logits.shape;
    const n = b * (s - 1);
    const shiftedLogits = tf.slice(logits, [0, 0, 0], [b, s - 1, v]);
    const shiftedLabels = tf.cast(tf.slice(labels, [0, 1], [b, s - 1]), 'int32');
    const valid = tf.notEqual(shiftedLabels, tf.scalar(IGNORE_INDEX, 'int32'));
    const mask = tf.cast(valid, 'float32') as Tensor2D;
    const safeLabels = tf.where(valid, shiftedLabels, tf.zerosLike(shiftedLabels));
    // log softmax(logits)[label] per row (one fused kernel on native; logSoftmax + 1-D gather elsewhere)
    const picked = tf.reshape(pickLogProb(tf.reshape(shiftedLogits, [n, v]) as Tensor2D, tf.reshape(safeLabels, [n]) as Tensor1D), [b, s - 1]);
    return { logProbs: tf.mul(picked, mask) as Tensor2D, mask };
  });
}

/** [batch]: number of loss-bearing (label ≠ -100) next-token positions per sequence. */
export function tokenCounts(labels: Tensor2D): Tensor1D {
  return tf.tidy(() => {
    const [b, s] = labels.shape;
    const shifted = tf.slice(labels, [0, 1], [b, s - 1]);
    return tf.sum(tf.cast(tf.notEqual(shifted, tf.scalar(IGNORE_INDEX, labels.dtype)), 'float32'), 1) as Tensor1D;
  });
}

/** [batch]: Σ_t log p(y_t | x, y_<t) over the labelled tokens of each sequence (the NPO / DPO sequence log-prob). */
export function sequenceLogProb(logits: Tensor3D, labels: Tensor2D): Tensor1D {
  return tf.tidy(() => tf.sum(tokenLogProbs(logits, labels).logProbs, 1) as Tensor1D);
}

/** [batch]: per-sequence mean log-prob over its labelled tokens (SimNPO's length normalisation); 0 for none. */
export function meanSequenceLogProb(logits: Tensor3D, labels: Tensor2D): Tensor1D {
  return tf.tidy(() => {
    const { logProbs, mask } = tokenLogProbs(logits, labels);
    return tf.div(tf.sum(logProbs, 1), tf.maximum(tf.sum(mask, 1), 1)) as Tensor1D;
  });
}

/**
 * Mean negative log-likelihood over all labelled tokens of the batch (HF's `outputs.loss`: token-weighted, not
 * sequence-weighted). A batch with no labelled token gives 0 (and zero gradient) instead of NaN.
 */
export function meanNll(logits: Tensor3D, labels: Tensor2D): Scalar {
  return tf.tidy(() => {
    const { logProbs, mask } = tokenLogProbs(logits, labels);
    return tf.div(tf.neg(tf.sum(logProbs)), tf.maximum(tf.sum(mask), 1)) as Scalar;
  });
}

// The one home of unlearn's label conventions (Hugging Face causal LM): `labels` are aligned with `inputIds`, the
// logits at position t predict the label at t+1 (the shift happens here), and IGNORE_INDEX (-100, PyTorch's
// CrossEntropyLoss `ignore_index`) carries no loss (prompt, padding). Data builds labels with it; objectives, the
// curvature probe and metrics read them through these functions. `meanNll` is exactly HF's `CausalLMOutput.loss`;
// `sequenceLogProb` is minus open-unlearning's `compute_batch_nll` (summed per sequence).
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import type { CausalLM, TokenBatch } from './interfaces.js';

/** The label value that carries no loss (PyTorch's CrossEntropyLoss `ignore_index`). */
export const IGNORE_INDEX = -100;

export interface TokenLogProbs {
  /** [batch, seq−1]: log p(label_{t+1} | x_≤t); 0 where the label is IGNORE_INDEX. */
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

/**
 * The fused kernel computing log softmax(x)[label] per row when the active backend registers it (the native backend
 * does, from @unlearn/backend-native: x[label] − logsumexp(x) in one pass, no [rows, vocab] log-softmax kept for the
 * gradient). Looked up by name in tfjs's kernel registry, so this layer-0 module depends on no backend package. Its
 * contract: inputs { logits [n, v] float32, labels [n] int32 }, outputs [log p(label) [n], …], with a gradient.
 */
export const PICK_LOG_PROB_KERNEL = 'UnlearnPickLogProb';

/** [n]: log softmax(logits)[r, labels[r]], by the fused kernel when registered, else logSoftmax + a 1-D gather. */
function pickedLogProbs(logits: Tensor2D, labels: Tensor1D): Tensor1D {
  const [n, v] = logits.shape;
  if (logits.dtype === 'float32' && tf.getKernel(PICK_LOG_PROB_KERNEL, tf.getBackend()) !== undefined) {
    const out = tf.engine().runKernel(PICK_LOG_PROB_KERNEL, { logits, labels } as unknown as tf.NamedTensorMap, {}) as unknown as Tensor[];
    return out[0] as Tensor1D;
  }
  // Pick log p[row, label[row]] from the flattened [n·v] table: a 1-D gather, whose gradient every backend has.
  const flatIndex = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), labels);
  return tf.gather(tf.reshape(tf.logSoftmax(logits), [n * v]), flatIndex) as Tensor1D;
}

/** Per-token log-probabilities of the next-token labels (shifted), masked where the label is IGNORE_INDEX. */
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
    const rows = tf.reshape(shiftedLogits, [n, v]);
    const rowLabels = tf.reshape(safeLabels, [n]);
    const picked = tf.reshape(pickedLogProbs(rows as Tensor2D, rowLabels as Tensor1D), [b, s - 1]);
    return { logProbs: tf.mul(picked, mask) as Tensor2D, mask };
  });
}

/** [batch]: number of loss-bearing (label ≠ IGNORE_INDEX) next-token positions per sequence. */
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

/** Mean NLL of `model` on a token batch (HF `outputs.loss`): the fine-tuning loss, and the retain term of objectives. */
export function batchNll(model: CausalLM, batch: TokenBatch): Scalar {
  return tf.tidy(() => meanNll(model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask }).logits, batch.labels));
}

/** Labels moved one position left (logits at t predict the token at t+1); the last position carries no loss. */
export function shiftLabels(labels: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const [b, s] = labels.shape;
    const next = tf.slice(labels, [0, 1], [b, s - 1]);
    return tf.concat([next, tf.fill([b, 1], IGNORE_INDEX, 'int32')], 1) as Tensor2D;
  });
}

/** Loss-bearing tokens of a batch part (shifted labels ≠ IGNORE_INDEX), as a float32 scalar. Call inside a tidy. */
export function lossTokens(part: TokenBatch): Tensor {
  return tf.sum(tf.cast(tf.notEqual(shiftLabels(part.labels), IGNORE_INDEX), 'float32'));
}

/** Whether a host-side label (an encoded example's `labels[i]`) carries loss. */
export const isLabelled = (label: number): boolean => label !== IGNORE_INDEX;

/**
 * Σ_t w_t · CE(logits_t, y_t) for logits [N, V], as ONE custom op whose gradient is the analytic
 * w_t·(softmax(logits_t) − onehot(y_t)). `labels` is fixed, or a function of the logits (a sample): drawing it inside
 * the op keeps the draw off the gradient tape — tfjs has no stopGradient, and the draw itself has no gradient.
 * Negative labels (IGNORE_INDEX) pick class 0; give them weight 0.
 */
export function weightedCrossEntropy(
  logits: Tensor2D,
  labels: Tensor1D | ((logits: Tensor2D) => Tensor1D),
  weights: Tensor1D,
): Scalar {
  const op = tf.customGrad(((x: Tensor, save: tf.GradSaveFunc) => {
    const x2 = x as Tensor2D;
    const [n, v] = x2.shape;
    const y = typeof labels === 'function' ? labels(x2) : tf.clone(labels);
    const safe = tf.tidy(() => tf.where(tf.greaterEqual(y, 0), y, tf.zerosLike(y)));
    const logp = tf.logSoftmax(x2);
    const flat = tf.tidy(() => tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), safe));
    const picked = tf.gather(tf.reshape(logp, [n * v]), flat);
    const value = tf.neg(tf.sum(tf.mul(picked, weights)));
    save([x2, safe]);
    tf.dispose([y, logp, flat, picked]);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sy] = saved as [Tensor2D, Tensor1D];
        const coef = tf.reshape(tf.mul(weights, dy), [n, 1]);
        return [tf.mul(tf.sub(tf.softmax(sx), tf.oneHot(sy, v)), coef)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as Scalar;
}

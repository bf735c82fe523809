// Teacher-forced answer statistics: one forward pass per batch gives everything the TOFU suite needs per sample —
// mean NLL and probability over the answer tokens (open-unlearning `evaluate_probability`: exp(−mean NLL)), and,
// for MIA / ES / EM, per-token log-probabilities, greedy predictions and the mean/variance of log p under the model's
// own next-token distribution (Min-K%++). Computed on the device; only [batch, seq] arrays come back.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { IGNORE_INDEX, type CausalLM, type TokenBatch } from '@unlearn/core';

export interface AnswerStats {
  /** Summed NLL over the answer's labelled tokens (EOS included when it is labelled). */
  nll: number;
  /** Mean NLL over the answer's labelled tokens (open-unlearning `avg_loss`). */
  avgLoss: number;
  /** exp(−avgLoss): the length-normalised answer probability (open-unlearning `prob`). */
  prob: number;
  /** Labelled answer tokens. */
  numTokens: number;
  /**
   * Per-token arrays over the labelled tokens EXCEPT the last (open-unlearning's `tokenwise_logprobs` drops the final
   * EOS prediction), in answer order: log p(token), greedy prediction, label, and (when asked) the mean and variance
   * of log p under the model's next-token distribution at that position.
   */
  tokenLogProbs: Float32Array;
  predictions: Int32Array;
  labels: Int32Array;
  vocabMeans?: Float32Array;
  vocabVariances?: Float32Array;
}

export interface AnswerStatsOptions {
  /** Also compute μ and σ² of log p over the vocabulary at each position (Min-K%++); default false. */
  vocabStats?: boolean;
}

/**
 * Per-sample statistics from logits [B, T, V] (position t predicts token t+1) and the batch's labels (HF convention,
 * IGNORE_INDEX = no loss). Does not dispose its inputs.
 */
export async function answerStatsFromLogits(
  logits: Tensor3D, labels: Tensor2D, options: AnswerStatsOptions = {},
): Promise<AnswerStats[]> {
  const [B, T, V] = logits.shape;
  if (labels.shape[0] !== B || labels.shape[1] !== T) {
    throw new Error(`answerStats: logits are [${logits.shape}] but labels are [${labels.shape}]`);
  }
  const labelArray = (await labels.data()) as Int32Array;
  if (T < 2) throw new Error(`answerStats: sequences of length ${T} have no next-token predictions`);
  const targets = new Int32Array(B * (T - 1));
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T - 1; t++) {
      const y = labelArray[b * T + t + 1];
      targets[b * (T - 1) + t] = y === IGNORE_INDEX ? 0 : y;
      if (y !== IGNORE_INDEX && (y < 0 || y >= V)) throw new Error(`answerStats: label ${y} at [${b}, ${t + 1}] is outside the vocabulary (${V})`);
    }
  }
  const outs = tf.tidy(() => {
    const shifted = tf.slice(logits, [0, 0, 0], [B, T - 1, V]);
    const logProbs = tf.logSoftmax(shifted, -1);
    const flat = tf.reshape(logProbs, [B * (T - 1), V]);
    const index = tf.tensor2d(
      Int32Array.from({ length: B * (T - 1) * 2 }, (_, i) => (i % 2 === 0 ? Math.floor(i / 2) : targets[Math.floor(i / 2)])),
      [B * (T - 1), 2], 'int32',
    );
    const target = tf.gatherND(flat, index);
    const argmax = tf.argMax(flat, -1);
    const result: tf.Tensor[] = [target, argmax];
    if (options.vocabStats) {
      const p = tf.exp(flat);
      const mean = tf.sum(tf.mul(p, flat), -1);
      const second = tf.sum(tf.mul(p, tf.square(flat)), -1);
      result.push(mean, tf.sub(second, tf.square(mean)));
    }
    return result;
  });
  const arrays = await Promise.all(outs.map((o) => o.data()));
  tf.dispose(outs);
  const [targetLp, argmax, means, variances] = arrays as [Float32Array, Int32Array, Float32Array?, Float32Array?];

  const stats: AnswerStats[] = [];
  for (let b = 0; b < B; b++) {
    const positions: number[] = []; // t such that label[t+1] is scored
    for (let t = 0; t < T - 1; t++) if (labelArray[b * T + t + 1] !== IGNORE_INDEX) positions.push(t);
    let nll = 0;
    for (const t of positions) nll -= targetLp[b * (T - 1) + t];
    const n = positions.length;
    const avgLoss = n ? nll / n : NaN;
    const kept = positions.slice(0, Math.max(0, n - 1));
    const pick = <A extends Float32Array | Int32Array>(src: A, make: (len: number) => A): A => {
      const out = make(kept.length);
      kept.forEach((t, i) => (out[i] = src[b * (T - 1) + t]));
      return out;
    };
    stats.push({
      nll,
      avgLoss,
      prob: Math.exp(-avgLoss),
      numTokens: n,
      tokenLogProbs: pick(targetLp, (l) => new Float32Array(l)),
      predictions: pick(argmax, (l) => new Int32Array(l)),
      labels: Int32Array.from(kept, (t) => labelArray[b * T + t + 1]),
      ...(means && variances
        ? { vocabMeans: pick(means, (l) => new Float32Array(l)), vocabVariances: pick(variances, (l) => new Float32Array(l)) }
        : {}),
    });
  }
  return stats;
}

/** Forward pass (no gradient tape) + answerStatsFromLogits for one batch. */
export async function answerLogProbs(model: CausalLM, batch: TokenBatch, options: AnswerStatsOptions = {}): Promise<AnswerStats[]> {
  const { logits } = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask });
  try {
    return await answerStatsFromLogits(logits, batch.labels, options);
  } finally {
    logits.dispose();
  }
}

/**
 * Option-normalised probability for multiple-choice splits (real_authors, world_facts; open-unlearning
 * `probability_w_options`): P(correct) / (P(correct) + Σ P(wrong_i) + 1e-10), each P length-normalised.
 */
export function optionNormalisedProbs(correct: readonly number[], wrong: readonly (readonly number[])[]): number[] {
  if (correct.length !== wrong.length) throw new Error(`optionNormalisedProbs: ${correct.length} correct but ${wrong.length} wrong lists`);
  return correct.map((c, i) => c / (c + wrong[i].reduce((s, w) => s + w, 0) + 1e-10));
}

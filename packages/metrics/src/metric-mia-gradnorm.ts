// Gradient-norm membership inference (open-unlearning `GradNormAttack`, after Wang et al. 2024, arXiv:2402.17012):
// per sample, loss = −mean(tokenwise log p) over the labelled tokens but the last (`tokenwise_logprobs`), and the
// score is the mean over parameter tensors of ‖∂loss/∂p‖_p (p = 2, configs/eval/tofu_metrics/mia_gradnorm.yaml).
// One sample per backward (batch_size 1, as the config sets). Parameters are made trainable for the pass and restored.
import * as tf from '@tensorflow/tfjs-core';
import { batchNll, IGNORE_INDEX, isLabelled } from '@unlearn/core';
import { collate, defaultPadTokenId } from '@unlearn/data';
import { defineMetric, type EvalContext } from './define-metric.js';
import { miaResult } from './metric-mia.js';
import { encoded } from './qa-passes.js';

export type GradNormP = 1 | 2 | 'inf';

/** ‖g‖_p of one gradient tensor, as a scalar tensor. */
function norm(g: tf.Tensor, p: GradNormP): tf.Scalar {
  return tf.tidy(() => (p === 1 ? tf.sum(tf.abs(g)) : p === 'inf' ? tf.max(tf.abs(g)) : tf.sqrt(tf.sum(tf.square(g))))) as tf.Scalar;
}

/** The gradient-norm score of each (question, answer) pair of `split`. */
export async function gradNormScores(ctx: EvalContext, split: string, p: GradNormP = 2): Promise<number[]> {
  const { examples } = await encoded(ctx, split, 'answer');
  const params = [...ctx.model.params.values()];
  const was = params.map((v) => v.trainable);
  const padTokenId = defaultPadTokenId(ctx.tokenizer);
  const scores: number[] = [];
  try {
    params.forEach((v) => (v.trainable = true));
    for (const e of examples) {
      const labels = e.labels.slice();
      labels[labels.findLastIndex(isLabelled)] = IGNORE_INDEX; // tokenwise_logprobs drops the final prediction
      const batch = collate([{ ...e, labels }], { padTokenId, paddingSide: 'right' });
      try {
        const { value, grads } = tf.variableGrads(() => batchNll(ctx.model, batch), params);
        const mean = tf.tidy(() => tf.mean(tf.stack(params.map((v) => norm(grads[v.name], p)))));
        scores.push((await mean.data())[0]);
        tf.dispose([value, mean, ...Object.values(grads)]);
      } finally {
        tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
      }
      ctx.progress(`${split}: ${scores.length}/${examples.length} gradient norms`);
    }
  } finally {
    params.forEach((v, i) => (v.trainable = was[i]));
  }
  return scores;
}

defineMetric({
  name: 'mia_gradnorm', description: 'gradient-norm attack AUC (mean per-parameter L2 norm of the loss gradient)', data: ['forget', 'holdout'],
  compute: async (ctx) => {
    const forget = await ctx.timed('mia_gradnorm', () => gradNormScores(ctx, 'forget'));
    const holdout = await ctx.timed('mia_gradnorm', () => gradNormScores(ctx, 'holdout'));
    return miaResult(forget, holdout);
  },
});

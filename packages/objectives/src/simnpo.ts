// SimNPO (Fan et al. 2024, "Simplicity Prevails: Rethinking Negative Preference Optimization for LLM Unlearning",
// Eq. 4): NPO without a reference model, with length-normalised log-probs and a margin δ:
//   L(θ) = −(2/β)·E_forget[ log σ(−β·(log π_θ(y|x)/|y| + δ)) ] + α·R_θ(retain)
// written as open-unlearning does (−logσ(β·(NLL/|y| − δ)), so δ is scaled by β). β = 4.5, δ = 0 (TOFU setting).
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar } from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { meanSequenceLogProb, tokenCounts, type Objective } from '@unlearn/core';
import { defineObjective } from './define-objective.js';
import { detach } from './detach.js';
import { rowWeightedTerm } from './gauss-newton.js';
import { logSigmoid } from './log-sigmoid.js';
import { parseOptions, weightsSchema } from './options.js';

export const simnpoOptions = z
  .object({ beta: z.number().finite().positive().default(4.5), delta: z.number().finite().default(0), ...weightsSchema })
  .strict();
export type SimnpoOptions = z.input<typeof simnpoOptions>;

export function simnpo(options: SimnpoOptions = {}): Objective {
  const o = parseOptions('simnpo', simnpoOptions, options);
  return defineObjective({
    name: 'simnpo',
    forget: (model, { batch }) =>
      tf.tidy(() => {
        const forget = batch.forget;
        const normalisedNll = tf.neg(meanSequenceLogProb(model.forward(forget).logits, forget.labels));
        const margin = tf.sub(normalisedNll, o.delta);
        return tf.mul(tf.mean(logSigmoid(tf.mul(margin, o.beta))), -2 / o.beta) as Scalar;
      }),
    // c_t = −(2/n)·σ(−β·m_i)/|y_i| for the answer tokens of row i, m_i = NLL_i/|y_i| − δ
    forgetCurvature: (model, { batch }) => {
      const forget = batch.forget;
      const logits = model.forward(forget).logits;
      const rowWeight = tf.tidy(() => {
        const margin = tf.sub(tf.neg(meanSequenceLogProb(detach(logits), forget.labels)), o.delta);
        const lengths = tf.maximum(tokenCounts(forget.labels), 1);
        return tf.div(tf.mul(tf.sigmoid(tf.mul(margin, -o.beta)), 2 / margin.shape[0]), lengths) as tf.Tensor1D;
      });
      return [rowWeightedTerm(logits, forget, rowWeight)];
    },
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    retain: o.retainLoss,
  });
}

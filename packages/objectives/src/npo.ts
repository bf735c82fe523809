// Negative Preference Optimization (Zhang et al. 2024, "Negative Preference Optimization: From Catastrophic Collapse
// to Effective Unlearning", Eq. 3), with open-unlearning's retain term:
//   L_NPO(θ) = −(2/β)·E_forget[ log σ(−β·(log π_θ(y|x) − log π_ref(y|x))) ] + α·R_θ(retain)
// log π(y|x) = Σ over the answer tokens (sequence log-prob). β = 0.1 as in the paper's TOFU runs.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar } from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { sequenceLogProb, type Objective } from '@unlearn/core';
import { defineObjective, referenceLogits } from './define-objective.js';
import { detach } from './detach.js';
import { rowWeightedTerm } from './gauss-newton.js';
import { logSigmoid } from './log-sigmoid.js';
import { parseOptions, weightsSchema } from './options.js';

export const npoOptions = z.object({ beta: z.number().finite().positive().default(0.1), ...weightsSchema }).strict();
export type NpoOptions = z.input<typeof npoOptions>;

export function npo(options: NpoOptions = {}): Objective {
  const o = parseOptions('npo', npoOptions, options);
  return defineObjective({
    name: 'npo',
    needs: { reference: true },
    forget: (model, { batch, reference }) =>
      tf.tidy(() => {
        const forget = batch.forget;
        const logRatio = tf.sub(
          sequenceLogProb(model.forward(forget).logits, forget.labels),
          sequenceLogProb(referenceLogits(reference!, forget), forget.labels),
        );
        return tf.mul(tf.mean(logSigmoid(tf.mul(logRatio, -o.beta))), -2 / o.beta) as Scalar;
      }),
    // c_t = −(2/n)·σ(β·r_i) for the answer tokens of row i (∂L/∂r_i = (2/n)σ(βr_i), ∂r_i/∂CE_t = −1)
    forgetCurvature: (model, { batch, reference }) => {
      const forget = batch.forget;
      const logits = model.forward(forget).logits;
      const rowWeight = tf.tidy(() => {
        const r = tf.sub(sequenceLogProb(detach(logits), forget.labels), sequenceLogProb(referenceLogits(reference!, forget), forget.labels));
        return tf.mul(tf.sigmoid(tf.mul(r, o.beta)), 2 / r.shape[0]) as tf.Tensor1D;
      });
      return [rowWeightedTerm(logits, forget, rowWeight)];
    },
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    retain: o.retainLoss,
  });
}

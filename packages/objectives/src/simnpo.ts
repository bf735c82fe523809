// SimNPO (Fan et al. 2024, "Simplicity Prevails: Rethinking Negative Preference Optimization for LLM Unlearning",
// Eq. 4): NPO without a reference model, with length-normalised log-probs and a margin δ:
//   L(θ) = −(2/β)·E_forget[ log σ(−β·(log π_θ(y|x)/|y| + δ)) ] + α·R_θ(retain)
// written as open-unlearning does (−logσ(β·(NLL/|y| − δ)), so δ is scaled by β). β = 4.5, δ = 0 (TOFU setting).
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar } from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { meanSequenceLogProb, type Objective } from '@unlearn/core';
import { defineObjective } from './define-objective.js';
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
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    retain: o.retainLoss,
  });
}

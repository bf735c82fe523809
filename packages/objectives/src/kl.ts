// KL minimisation (TOFU, Maini et al. 2024 §4 "KL"): gradient ascent on the forget set while keeping the retain
// next-token distributions close to the reference model's:
//   L(θ) = −γ·NLL_θ(forget) + α·mean_t KL(p_ref(·|x_≤t) ‖ p_θ(·|x_≤t)) on retain.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Objective } from '@unlearn/core';
import { batchNll, defineObjective } from './define-objective.js';
import { tokenMeanTerm } from './gauss-newton.js';
import { parseOptions, weightsSchema } from './options.js';

export const klOptions = z
  .object({ forgetWeight: weightsSchema.forgetWeight, retainWeight: z.number().finite().positive().default(1) })
  .strict();
export type KlOptions = z.input<typeof klOptions>;

export function kl(options: KlOptions = {}): Objective {
  const o = parseOptions('kl', klOptions, options);
  return defineObjective({
    name: 'kl',
    forget: (model, { batch }) => tf.tidy(() => tf.neg(batchNll(model, batch.forget))),
    forgetCurvature: (model, { batch }) => [tokenMeanTerm(model.forward(batch.forget).logits, batch.forget, 1)],
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    retain: 'kl',
  });
}

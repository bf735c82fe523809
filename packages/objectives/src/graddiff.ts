// Gradient Difference (Liu et al. 2022, "Continual Learning and Private Unlearning"; TOFU / open-unlearning GradDiff):
//   L(θ) = −γ·NLL_θ(forget) + α·R_θ(retain),   R = NLL (default) or KL(p_ref ‖ p_θ).
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Objective } from '@unlearn/core';
import { batchNll, defineObjective } from './define-objective.js';
import { tokenMeanTerm } from './gauss-newton.js';
import { parseOptions, weightsSchema } from './options.js';

export const graddiffOptions = z.object({ ...weightsSchema }).strict();
export type GraddiffOptions = z.input<typeof graddiffOptions>;

export function graddiff(options: GraddiffOptions = {}): Objective {
  const o = parseOptions('graddiff', graddiffOptions, options);
  return defineObjective({
    name: 'graddiff',
    forget: (model, { batch }) => tf.tidy(() => tf.neg(batchNll(model, batch.forget))),
    forgetCurvature: (model, { batch }) => [tokenMeanTerm(model.forward(batch.forget).logits, batch.forget, 1)],
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    retain: o.retainLoss,
  });
}

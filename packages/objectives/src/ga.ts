// Gradient Ascent (Jang et al. 2023, "Knowledge Unlearning for Mitigating Privacy Risks"; TOFU's GA baseline):
//   L_GA(θ) = −NLL_θ(forget)      — minimising it ascends the forget NLL. No retain term.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { Objective } from '@unlearn/core';
import { batchNll, defineObjective } from './define-objective.js';
import { tokenMeanTerm } from './gauss-newton.js';
import { parseOptions } from './options.js';

export const gaOptions = z.object({}).strict();
export type GaOptions = z.input<typeof gaOptions>;

export function ga(options: GaOptions = {}): Objective {
  parseOptions('ga', gaOptions, options);
  return defineObjective({
    name: 'ga',
    forget: (model, { batch }) => tf.tidy(() => tf.neg(batchNll(model, batch.forget))),
    // c_t = −1/T_f on the forget answers
    forgetCurvature: (model, { batch }) => [tokenMeanTerm(model.forward(batch.forget).logits, batch.forget, 1)],
    retainWeight: 0,
  });
}

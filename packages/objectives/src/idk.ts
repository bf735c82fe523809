// Preference Optimization with refusals (TOFU, Maini et al. 2024 §4 "PO"; "IdK" in later papers): fine-tune the
// forget questions towards an alternate answer such as "I don't know", keeping the retain set:
//   L(θ) = γ·NLL_θ(alternate) + α·R_θ(retain)
// `batch.alternate` holds the forget questions with refusal answers (labels IGNORE_INDEX on the question tokens).
import { z } from 'zod';
import type { Objective } from '@unlearn/core';
import { batchNll, defineObjective } from './define-objective.js';
import { tokenMeanTerm } from './gauss-newton.js';
import { parseOptions, weightsSchema } from './options.js';

export const idkOptions = z.object({ ...weightsSchema }).strict();
export type IdkOptions = z.input<typeof idkOptions>;

export function idk(options: IdkOptions = {}): Objective {
  const o = parseOptions('idk', idkOptions, options);
  return defineObjective({
    name: 'idk',
    needs: { alternate: true },
    forget: (model, { batch }) => batchNll(model, batch.alternate!),
    // the refusal answers of the alternate batch are what this term scores (c_t = 1/T_alt)
    forgetCurvature: (model, { batch }) => [tokenMeanTerm(model.forward(batch.alternate!).logits, batch.alternate!, 1)],
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    retain: o.retainLoss,
  });
}

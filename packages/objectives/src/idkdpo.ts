// IdkDPO: Direct Preference Optimization (Rafailov et al. 2023, Eq. 7) with the alternate ("I don't know") answer
// preferred over the forget answer, as in the NPO paper's TOFU baselines and open-unlearning's DPO trainer:
//   L(θ) = −(2/β)·E[ log σ(β·((log π_θ(y_w|x) − log π_ref(y_w|x)) − (log π_θ(y_l|x) − log π_ref(y_l|x)))) ] + α·R_θ(retain)
// y_w = batch.alternate (row i answers the same question as batch.forget row i), y_l = batch.forget. β = 0.1.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar } from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { sequenceLogProb, type CausalLM, type Objective, type TokenBatch } from '@unlearn/core';
import { defineObjective, referenceLogits } from './define-objective.js';
import { detach } from './detach.js';
import { rowWeightedTerm } from './gauss-newton.js';
import { logSigmoid } from './log-sigmoid.js';
import { parseOptions, weightsSchema } from './options.js';

export const idkdpoOptions = z.object({ beta: z.number().finite().positive().default(0.1), ...weightsSchema }).strict();
export type IdkdpoOptions = z.input<typeof idkdpoOptions>;

/** [batch]: log π_θ(y|x) − log π_ref(y|x), the reference part constant. */
function logRatio(model: CausalLM, reference: CausalLM, batch: TokenBatch): tf.Tensor1D {
  return tf.tidy(() =>
    tf.sub(sequenceLogProb(model.forward(batch).logits, batch.labels), sequenceLogProb(referenceLogits(reference, batch), batch.labels)),
  );
}

export function idkdpo(options: IdkdpoOptions = {}): Objective {
  const o = parseOptions('idkdpo', idkdpoOptions, options);
  return defineObjective({
    name: 'idkdpo',
    needs: { reference: true, alternate: true },
    forget: (model, { batch, reference }) => {
      const win = batch.alternate!;
      const lose = batch.forget;
      if (win.inputIds.shape[0] !== lose.inputIds.shape[0]) {
        throw new Error(
          `idkdpo: batch.alternate has ${win.inputIds.shape[0]} rows but batch.forget has ${lose.inputIds.shape[0]}; row i of each must answer the same question`,
        );
      }
      return tf.tidy(() => {
        const margin = tf.sub(logRatio(model, reference!, win), logRatio(model, reference!, lose));
        return tf.mul(tf.mean(logSigmoid(tf.mul(margin, o.beta))), -2 / o.beta) as Scalar;
      });
    },
    // c_t = ±(2/n)·σ(−β·M_i) on row i's preferred (alternate, +) and rejected (forget, −) answer tokens
    forgetCurvature: (model, { batch, reference }) => {
      const win = batch.alternate!;
      const lose = batch.forget;
      const winLogits = model.forward(win).logits;
      const loseLogits = model.forward(lose).logits;
      const rowWeight = tf.tidy(() => {
        const ratio = (logits: tf.Tensor3D, b: TokenBatch) => tf.sub(sequenceLogProb(detach(logits), b.labels), sequenceLogProb(referenceLogits(reference!, b), b.labels));
        const margin = tf.sub(ratio(winLogits, win), ratio(loseLogits, lose));
        return tf.mul(tf.sigmoid(tf.mul(margin, -o.beta)), 2 / margin.shape[0]) as tf.Tensor1D;
      });
      return [rowWeightedTerm(winLogits, win, rowWeight), rowWeightedTerm(loseLogits, lose, rowWeight)];
    },
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    retain: o.retainLoss,
  });
}

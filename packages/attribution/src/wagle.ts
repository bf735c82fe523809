// WAGLE, Weight Attribution-Guided LLM unlEarning (Jia et al. 2024, NeurIPS; arXiv:2410.17509 §4): the influence of
// weight i on the retain loss after unlearning, to first order, is
//   S_i = |(θ_i − ∇ℓ_r(θ)_i / μ) · ∇ℓ_f(θ)_i|
// with μ the Hessian diagonal approximated by a constant (μ = 1e-6 in the released configs). ℓ_f and ℓ_r are the
// mean NLLs of forget and retain batches, their gradients summed over batches, exactly as the reference code does
// (OPTML-Group/WAGLE src/unlearn/generate_mask.py, `snip_advanced`). The top `keep` fraction, ranked globally,
// may change.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { parseOptions, type TensorMap } from '@unlearn/core';
import { rankedParams, summedLossGradients } from './loss-gradients.js';
import { scoredMaskBuilder, type ScoredMaskBuilder } from './score-mask.js';

export const wagleOptions = z.object({ mu: z.number().finite().positive().default(1e-6) }).strict();
export type WagleOptions = z.input<typeof wagleOptions>;

export function wagle(options: WagleOptions = {}): ScoredMaskBuilder {
  const { mu } = parseOptions('wagle', wagleOptions, options);
  return scoredMaskBuilder('wagle', (model, data) => {
    if (!data?.retain?.length) throw new Error('wagle needs data.retain (retain batches): its score uses the retain-loss gradient');
    const gForget = summedLossGradients(model, data.forget, 'forget');
    const gRetain = summedLossGradients(model, data.retain, 'retain');
    const scores: TensorMap = new Map();
    for (const [name, theta] of rankedParams(model)) {
      scores.set(name, tf.tidy(() => tf.abs(tf.mul(tf.sub(theta, tf.div(gRetain.get(name)!, mu)), gForget.get(name)!))));
    }
    tf.dispose([...gForget.values(), ...gRetain.values()]);
    return scores;
  });
}

// SalUn, gradient-based weight saliency (Fan et al. 2024, ICLR; arXiv:2310.12508 §4, the saliency map m_S): S_i = |∇ℓ_f(θ)_i|, the forget-loss gradient
// magnitude; the most salient `keep` fraction (SalUn's threshold γ, here a global top-k) may change. ℓ_f is the mean
// forget NLL, gradients summed over batches.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { parseOptions, type TensorMap } from '@unlearn/core';
import { summedLossGradients } from './loss-gradients.js';
import { scoredMaskBuilder, type ScoredMaskBuilder } from './score-mask.js';

export const salunOptions = z.object({}).strict();
export type SalunOptions = z.input<typeof salunOptions>;

export function salun(options: SalunOptions = {}): ScoredMaskBuilder {
  parseOptions('salun', salunOptions, options);
  return scoredMaskBuilder('salun', (model, data) => {
    const g = summedLossGradients(model, data?.forget, 'forget');
    const scores: TensorMap = new Map();
    for (const [name, t] of g) scores.set(name, tf.abs(t));
    tf.dispose([...g.values()]);
    return scores;
  });
}

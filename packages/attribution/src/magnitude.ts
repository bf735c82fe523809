// Magnitude baseline (WAGLE's "weight" score): S_i = |θ_i|, the largest-magnitude `keep` fraction may change.
// Needs no data.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { parseOptions } from '@unlearn/core';
import { rankedParams } from './loss-gradients.js';
import { scoredMaskBuilder, type ScoredMaskBuilder } from './score-mask.js';

export const magnitudeOptions = z.object({}).strict();
export type MagnitudeOptions = z.input<typeof magnitudeOptions>;

export function magnitude(options: MagnitudeOptions = {}): ScoredMaskBuilder {
  parseOptions('magnitude', magnitudeOptions, options);
  return scoredMaskBuilder('magnitude', (model) => new Map(rankedParams(model).map(([name, v]) => [name, tf.abs(v)])));
}

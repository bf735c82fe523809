// Random baseline (WAGLE's "random" score): i.i.d. uniform scores from a seeded PRNG, so a `keep` fraction chosen
// uniformly at random — exactly round(keep·N) entries, the same ones for the same seed and parameter shapes.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { rankedParams } from './loss-gradients.js';
import { scoredMaskBuilder, type ScoredMaskBuilder } from './score-mask.js';
import { parseOptions } from '@unlearn/core';
import { mulberry32 } from '@unlearn/random';

export const randomOptions = z.object({ seed: z.number().int().default(0) }).strict();
export type RandomOptions = z.input<typeof randomOptions>;

export function random(options: RandomOptions = {}): ScoredMaskBuilder {
  const { seed } = parseOptions('random', randomOptions, options);
  return scoredMaskBuilder('random', (model) => {
    const next = mulberry32(seed);
    return new Map(rankedParams(model).map(([name, v]) => [name, tf.tensor(Float32Array.from({ length: v.size }, next), v.shape, 'float32')]));
  });
}

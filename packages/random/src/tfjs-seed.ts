// Seeds for TensorFlow.js's random ops. tfjs seeds its Gaussian and gamma generators with `seed ? seed : Math.random()`
// (tfjs-core src/ops/rand_util.ts, MPRandGauss / RandGamma), so a seed of 0 — or NaN, or a derived seed that happens to
// be 0 — silently draws a RANDOM stream: `createModel(cfg, { seed: 0 })` used to give different weights on every call.
// Every tfjs random op in unlearn is seeded through `tfjsSeed`, which is deterministic and never falsy.
import { deriveSeed } from './seeded-random.js';

/**
 * The tfjs seed of stream `k` of run seed `seed`: a positive 32-bit integer in [1, 2^32), never 0, the same on every
 * platform. Distinct (seed, k) pairs give (hash-)distinct streams. Throws on a non-finite or non-integer seed.
 */
export function tfjsSeed(seed: number, k = 0): number {
  if (!Number.isInteger(seed)) throw new Error(`tfjsSeed: seed must be an integer, got ${seed}`);
  if (!Number.isInteger(k)) throw new Error(`tfjsSeed: stream index must be an integer, got ${k}`);
  const s = deriveSeed(seed, 'tfjs', k);
  return s === 0 ? 0x9e3779b9 : s;
}

// Typed, validated optimizer options: every factory parses its options with a strict zod schema, so a typo ("betta")
// or a bad value fails at construction with one line naming the optimizer and the field.
// (`parseOptions` itself is @unlearn/core's, the one every registered factory uses.)
import { z } from 'zod';

export { parseOptions } from '@unlearn/core';

export const lr = z.number().finite().nonnegative();
export const beta = z.number().gte(0).lt(1);
export const betas = z.tuple([beta, beta]);
export const positive = z.number().finite().positive();
export const nonnegative = z.number().finite().nonnegative();

/** A 32-bit seed derived from (seed, step) when the Trainer supplies none. */
export function stepSeed(seed: number | undefined, step: number): number {
  return seed !== undefined ? seed >>> 0 : mix32(0x5eed ^ step);
}

/** A well-mixed 32-bit hash of its integer arguments (murmur3 finaliser over a running combination). */
export function mix32(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

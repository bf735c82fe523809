// Typed, validated optimizer options: every factory parses its options with a strict zod schema, so a typo ("betta")
// or a bad value fails at construction with one line naming the optimizer and the field.
import { z } from 'zod';

/** Parses `input` with `schema`; throws `<name>: invalid options: <field>: <problem>; ...` on failure. */
export function parseOptions<S extends z.ZodTypeAny>(name: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    return `${where}${issue.message}`;
  });
  throw new Error(`${name}: invalid options: ${problems.join('; ')}`);
}

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

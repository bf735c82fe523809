// Typed, validated options: every factory parses its options with a strict zod schema, so a typo ("betta") or a
// bad value fails at construction with one line naming the objective and the field — not silently at step 1000.
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

/** The weights of the open-unlearning GradDiff family: loss = γ·forget + α·retain. */
export const weightsSchema = {
  /** γ: weight of the forget term. */
  forgetWeight: z.number().finite().nonnegative().default(1),
  /** α: weight of the retain term (0 drops it, and the objective then needs no retain batch). */
  retainWeight: z.number().finite().nonnegative().default(1),
  /** Retain term: NLL on the retain answers, or KL(p_ref ‖ p_θ) on the retain batch (needs a reference model). */
  retainLoss: z.enum(['nll', 'kl']).default('nll'),
};

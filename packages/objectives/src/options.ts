// Typed, validated options: every factory parses its options with a strict zod schema through @unlearn/core's
// `parseOptions`, so a typo ("betta") or a bad value fails at construction with one line naming the objective and the
// field — not silently at step 1000.
import { z } from 'zod';

export { parseOptions } from '@unlearn/core';

/** The weights of the open-unlearning GradDiff family: loss = γ·forget + α·retain. */
export const weightsSchema = {
  /** γ: weight of the forget term. */
  forgetWeight: z.number().finite().nonnegative().default(1),
  /** α: weight of the retain term (0 drops it, and the objective then needs no retain batch). */
  retainWeight: z.number().finite().nonnegative().default(1),
  /** Retain term: NLL on the retain answers, or KL(p_ref ‖ p_θ) on the retain batch (needs a reference model). */
  retainLoss: z.enum(['nll', 'kl']).default('nll'),
};

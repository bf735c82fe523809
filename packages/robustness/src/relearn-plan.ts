// What a relearning attack trains on and when it measures (Hu et al. 2024, arXiv 2406.13356: a few fine-tuning steps
// on a small set bring unlearned knowledge back; Łucki et al. 2024, arXiv 2409.18025: even unrelated data does):
//   targeted — a seeded slice of the forget set itself (the attacker holds part of what was forgotten);
//   benign   — a seeded slice of retain data (related public text the model was allowed to keep).
// Both the unlearned and the retain-only model see the same rows in the same order (same seed).
import { seededRandom } from '@unlearn/random';

export type RelearnSet = 'targeted' | 'benign';

/** `count` distinct indices of [0, n) drawn with `seed` (Fisher–Yates on a seeded PRNG), in drawn order. */
export function seededSlice(n: number, count: number, seed: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`relearn: items must be a positive integer, got ${count}`);
  const idx = Array.from({ length: n }, (_, i) => i);
  const rng = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, Math.min(count, n));
}

/** Steps after which the models are evaluated: 0, k/4, k/2 and k (rounded, distinct) — or the given steps within [0, k]. */
export function relearnCheckpoints(steps: number, at?: readonly number[]): number[] {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`relearn: steps must be a positive integer, got ${steps}`);
  const wanted = at ?? [0, Math.round(steps / 4), Math.round(steps / 2), steps];
  for (const s of wanted) if (!Number.isInteger(s) || s < 0 || s > steps) throw new Error(`relearn: checkpoint ${s} is not a step in [0, ${steps}]`);
  return [...new Set([0, ...wanted])].sort((a, b) => a - b);
}

// Min-K% Prob membership-inference attack (Shi et al. 2024, "Detecting Pretraining Data from LLMs", eq. 1):
// the negated mean of the lowest k-fraction of the answer's token log-probabilities. open-unlearning `MinKProbAttack`:
// count = max(1, ⌊len·k⌋); an answer with no scored tokens scores 0. TOFU's configuration uses k = 0.4.

export const MIN_K_DEFAULT = 0.4;

export function minKScore(tokenLogProbs: ArrayLike<number>, k = MIN_K_DEFAULT): number {
  if (!(k > 0 && k <= 1)) throw new Error(`minKScore: k must be in (0, 1], got ${k}`);
  if (tokenLogProbs.length === 0) return 0;
  return -lowestMean(tokenLogProbs, k);
}

/** Mean of the lowest max(1, ⌊len·k⌋) values. */
export function lowestMean(values: ArrayLike<number>, k: number): number {
  const sorted = Float64Array.from(values).sort();
  const count = Math.max(1, Math.floor(sorted.length * k));
  let s = 0;
  for (let i = 0; i < count; i++) s += sorted[i];
  return s / count;
}

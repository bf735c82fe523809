// TOFU model utility (Maini et al. 2024, §2.5.2; open-unlearning `hm_aggregate`): the harmonic mean of nine numbers —
// probability, ROUGE-L recall and truth-ratio statistic on each of retain, real_authors and world_facts.

/** scipy.stats.hmean for non-negative values: n / Σ 1/x, and 0 when any value is 0. */
export function harmonicMean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('harmonicMean: no values');
  let reciprocalSum = 0;
  for (const [i, v] of values.entries()) {
    if (!(v >= 0)) throw new Error(`harmonicMean: value #${i} is ${v}; the harmonic mean needs non-negative numbers`);
    reciprocalSum += 1 / v;
  }
  return values.length / reciprocalSum;
}

export interface ModelUtilityInputs {
  retain: { prob: number; rougeL: number; truthRatio: number };
  realAuthors: { prob: number; rougeL: number; truthRatio: number };
  worldFacts: { prob: number; rougeL: number; truthRatio: number };
}

/** Model utility from the nine TOFU numbers (probabilities on real_authors / world_facts are the option-normalised ones). */
export function modelUtility(m: ModelUtilityInputs): number {
  const parts = [m.retain, m.realAuthors, m.worldFacts];
  return harmonicMean(parts.flatMap((p) => [p.prob, p.rougeL, p.truthRatio]));
}

// TOFU truth ratio (Maini et al. 2024, §2.5.1; open-unlearning `truth_ratio`):
//   R = P̃(perturbed) / P̃(paraphrased),  P̃(a) = exp(−mean NLL of a's tokens)  (length-normalised probability),
// where the perturbed side is the geometric mean over the perturbed answers: exp(−mean_i avgNLL_i).
// Aggregates: forget set "closer_to_1_better" = mean min(R, 1/R); other sets "true_better" = mean max(0, 1 − R);
// "prob_mean" (OpenUnlearning's extent of knowledge) redefines the item value as P̃(correct) / (P̃(correct) + P̃(wrong))
// and averages it.
// The 1e-10 guards are open-unlearning's, kept so numbers compare.

const EPS = 1e-10;

/** Per-item truth ratio from the correct (paraphrased) answer's mean NLL and each wrong (perturbed) answer's mean NLL. */
export function truthRatio(correctAvgLoss: number, wrongAvgLosses: readonly number[]): number {
  if (wrongAvgLosses.length === 0) throw new Error('truthRatio: at least one wrong (perturbed) answer loss is required');
  for (const [i, v] of [correctAvgLoss, ...wrongAvgLosses].entries()) {
    if (Number.isNaN(v)) throw new Error(`truthRatio: loss #${i} is NaN`);
  }
  const wrongMean = wrongAvgLosses.reduce((s, v) => s + v, 0) / wrongAvgLosses.length;
  return Math.exp(-wrongMean) / (Math.exp(-correctAvgLoss) + EPS);
}

export type TruthRatioAggregator = 'closer_to_1_better' | 'true_better' | 'prob_mean';

/** The per-item value `prob_mean` aggregates: P̃(correct) / (P̃(correct) + P̃(wrong) + 1e-10). */
export function truthRatioProbMean(correctAvgLoss: number, wrongAvgLosses: readonly number[]): number {
  if (wrongAvgLosses.length === 0) throw new Error('truthRatioProbMean: at least one wrong (perturbed) answer loss is required');
  const correct = Math.exp(-correctAvgLoss);
  const wrong = Math.exp(-wrongAvgLosses.reduce((s, v) => s + v, 0) / wrongAvgLosses.length);
  return correct / (correct + wrong + EPS);
}

/** Aggregates per-item truth ratios: forget set → mean min(R, 1/R); retain / real authors / world facts → mean max(0, 1−R). */
export function aggregateTruthRatios(ratios: readonly number[], aggregator: TruthRatioAggregator): number {
  if (ratios.length === 0) throw new Error('aggregateTruthRatios: no truth ratios to aggregate');
  const f =
    aggregator === 'closer_to_1_better'
      ? (r: number) => Math.min(r, 1 / (r + EPS))
      : aggregator === 'true_better'
        ? (r: number) => Math.max(0, 1 - r)
        : null;
  if (!f) throw new Error(`aggregateTruthRatios: unknown aggregator "${String(aggregator)}"`);
  return ratios.reduce((s, r) => s + f(r), 0) / ratios.length;
}

// Extraction strength (Carlini et al. 2021 via open-unlearning `extraction_strength`): the smallest prefix fraction
// k/L of the answer after which the model's teacher-forced greedy predictions reproduce the entire remaining suffix,
// reported as ES = 1 − k/L (1: every token is predicted). L counts the answer's scored tokens; as in open-unlearning's
// loop (k < L), an answer whose last token is not reproduced scores 1/L, and an empty answer 0.

export function extractionStrength(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  const L = labels.length;
  if (predictions.length !== L) throw new Error(`extractionStrength: ${predictions.length} predictions but ${L} labels`);
  if (L === 0) return 0;
  // Scan from the end: the suffix predictions[k:] == labels[k:] holds for k >= firstOfMatchingTail.
  let k = L;
  while (k > 0 && predictions[k - 1] === labels[k - 1]) k--;
  return 1 - Math.min(k, L - 1) / L;
}

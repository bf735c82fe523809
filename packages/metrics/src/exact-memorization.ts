// Exact memorization (Tirumala et al. 2022 via open-unlearning `exact_memorization`): the fraction of the answer's
// tokens that the model's teacher-forced greedy prediction gets right.

export function exactMemorization(predictions: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const L = labels.length;
  if (predictions.length !== L) throw new Error(`exactMemorization: ${predictions.length} predictions but ${L} labels`);
  if (L === 0) return null;
  let hits = 0;
  for (let i = 0; i < L; i++) if (predictions[i] === labels[i]) hits++;
  return hits / L;
}

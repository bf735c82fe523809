// PrivLeak (Shi et al. 2024, MUSE §3; open-unlearning `privleak`): relative gap between the unlearned model's MIA AUC
// and the retain-only model's, on the (1 − AUC) scale MUSE reports:
//   privleak = ((1 − AUC_unlearned) − (1 − AUC_retain)) / (1 − AUC_retain) · 100.
// ≈ 0 is ideal; open-unlearning uses AUC_retain = 0.5 when no retain-model evaluation is given.

export function privleak(aucUnlearned: number, aucRetain = 0.5): number {
  for (const [name, v] of [['aucUnlearned', aucUnlearned], ['aucRetain', aucRetain]] as const) {
    if (!(v >= 0 && v <= 1)) throw new Error(`privleak: ${name} is ${v}; an AUC lies in [0, 1]`);
  }
  const score = 1 - aucUnlearned;
  const ref = 1 - aucRetain;
  return ((score - ref) / (ref + 1e-10)) * 100;
}

/** open-unlearning `rel_diff`: (score − ref) / (ref + 1e-10) · 100, the relative change of one statistic vs the retain model's. */
export function relDiff(score: number, ref: number): number {
  return ((score - ref) / (ref + 1e-10)) * 100;
}

// Suites are lists of metric names (open-unlearning's configs/eval/*.yaml `metrics`); evaluateMetrics adds what they
// depend on. TOFU here is open-unlearning's tofu.yaml with every optional metric switched on, so eval.json holds the
// full TOFU_EVAL.json layout.
export const TOFU_METRICS = [
  'forget_Q_A_Prob', 'forget_Q_A_PARA_Prob', 'forget_Q_A_PERT_Prob', 'forget_truth_ratio', 'forget_Q_A_ROUGE', 'forget_quality',
  'retain_Q_A_Prob', 'retain_Q_A_PARA_Prob', 'retain_Q_A_PERT_Prob', 'retain_Truth_Ratio', 'retain_Q_A_ROUGE',
  'ra_Q_A_Prob', 'ra_Q_A_PERT_Prob', 'ra_Q_A_Prob_normalised', 'ra_Truth_Ratio', 'ra_Q_A_ROUGE',
  'wf_Q_A_Prob', 'wf_Q_A_PERT_Prob', 'wf_Q_A_Prob_normalised', 'wf_Truth_Ratio', 'wf_Q_A_ROUGE',
  'model_utility', 'extraction_strength', 'exact_memorization',
  'mia_min_k_plus_plus', 'mia_min_k', 'mia_loss', 'mia_zlib', 'privleak',
] as const;

/** What a retain-only model must provide for forget_quality and privleak (open-unlearning's retain_logs). */
export const RETAIN_REFERENCE_METRICS = ['forget_truth_ratio', 'mia_min_k'] as const;

/** open-unlearning's configs/eval/muse.yaml on a user's corpora (data keys: see metric-muse.ts). */
export const MUSE_METRICS = ['forget_knowmem_ROUGE', 'retain_knowmem_ROUGE', 'forget_verbmem_ROUGE', 'muse_privleak'] as const;

export const SUITES: Record<string, readonly string[]> = { tofu: TOFU_METRICS, muse: MUSE_METRICS };

// TOFU forget quality (Maini et al. 2024, §2.5.3): the p-value of a two-sample KS test between the per-item truth
// ratios of the unlearned model and of a model trained on the retain set only, both measured on the forget set.
// High (→ 1) means the two distributions are indistinguishable. open-unlearning reads the retain model's ratios from
// its saved evaluation (`retain_logs_path`); without them there is no forget quality.
import { ksTwoSample } from './ks-two-sample.js';

export function forgetQuality(unlearnedTruthRatios: readonly number[], retainModelTruthRatios: readonly number[]): number {
  return ksTwoSample(unlearnedTruthRatios, retainModelTruthRatios).pValue;
}

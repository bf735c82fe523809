// Metrics computed from other metrics: forget quality (open-unlearning `ks_test` on the forget truth ratios vs the
// retain-only model's), model utility (`hm_aggregate` of nine TOFU numbers) and privleak (MUSE's relative AUC gap).
import { defineMetric, dependency } from './define-metric.js';
import { forgetQuality } from './forget-quality.js';
import { harmonicMean } from './model-utility.js';
import { privleak } from './privleak.js';
import { retainAgg, retainTruthRatios } from './retain-logs.js';

defineMetric({
  name: 'forget_quality', description: "KS-test p-value of forget truth ratios vs the retain-only model's (null without one)",
  data: ['forget'], dependsOn: ['forget_truth_ratio'],
  compute: (ctx) => {
    const retain = retainTruthRatios(ctx.retainLogs);
    if (!retain) {
      ctx.warn('forget_quality: no retain-only model evaluation (eval.retainModel / eval.retainEval); forget_quality is null');
      return { agg_value: null };
    }
    const ours = Object.values(dependency(ctx, 'forget_quality', 'forget_truth_ratio').value_by_index!).map((v) => v.score as number);
    return { agg_value: forgetQuality(ours, retain) };
  },
});

export const MODEL_UTILITY_PARTS = [
  'retain_Q_A_Prob', 'retain_Q_A_ROUGE', 'retain_Truth_Ratio', 'ra_Q_A_Prob_normalised', 'ra_Q_A_ROUGE', 'ra_Truth_Ratio',
  'wf_Q_A_Prob_normalised', 'wf_Q_A_ROUGE', 'wf_Truth_Ratio',
] as const;

defineMetric({
  name: 'model_utility', description: 'harmonic mean of probability, ROUGE-L and truth ratio on retain, real authors, world facts',
  data: ['retain', 'realAuthors', 'worldFacts'], dependsOn: MODEL_UTILITY_PARTS,
  compute: (ctx) => ({ agg_value: harmonicMean(MODEL_UTILITY_PARTS.map((n) => dependency(ctx, 'model_utility', n).agg_value as number)) }),
});

defineMetric({
  name: 'privleak', description: "relative gap of Min-K% AUC (1 − AUC scale) to the retain-only model's (0.5 without one)",
  data: ['forget', 'holdout'], dependsOn: ['mia_min_k'],
  compute: (ctx) => {
    const ref = retainAgg(ctx.retainLogs, 'mia_min_k');
    if (ref === undefined) ctx.warn(`privleak: ${ctx.retainLogs ? 'the retain-only evaluation has no mia_min_k' : 'no retain-only model evaluation'}; AUC_retain = 0.5`);
    return { agg_value: privleak(dependency(ctx, 'privleak', 'mia_min_k').agg_value as number, ref ?? 0.5) };
  },
});

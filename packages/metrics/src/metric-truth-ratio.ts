// open-unlearning `truth_ratio` over the precomputed correct and wrong answer probabilities (truth-ratio.ts has the
// formula): forget → closer_to_1_better, retain / real authors / world facts → true_better; prob_mean on request.
import { byIndex, defineMetric, dependency } from './define-metric.js';
import { aggregateTruthRatios, truthRatio, truthRatioProbMean, type TruthRatioAggregator } from './truth-ratio.js';

export function defineTruthRatio(name: string, split: string, correct: string, wrong: string, aggregator: TruthRatioAggregator): void {
  defineMetric({
    name, description: `truth ratio on ${split} (${aggregator})`, data: [split], dependsOn: [correct, wrong],
    compute: (ctx) => {
      const c = Object.values(dependency(ctx, name, correct).value_by_index!).map((v) => v.avg_loss as number);
      const w = Object.values(dependency(ctx, name, wrong).value_by_index!).map((v) => v.avg_loss as number[]);
      const item = aggregator === 'prob_mean' ? truthRatioProbMean : truthRatio;
      const ratios = c.map((loss, i) => item(loss, w[i]));
      return { agg_value: aggregateTruthRatios(ratios, aggregator), value_by_index: byIndex(ratios, (score) => ({ score })) };
    },
  });
}

defineTruthRatio('forget_truth_ratio', 'forget', 'forget_Q_A_PARA_Prob', 'forget_Q_A_PERT_Prob', 'closer_to_1_better');
defineTruthRatio('forget_truth_ratio_prob_mean', 'forget', 'forget_Q_A_PARA_Prob', 'forget_Q_A_PERT_Prob', 'prob_mean');
defineTruthRatio('retain_Truth_Ratio', 'retain', 'retain_Q_A_PARA_Prob', 'retain_Q_A_PERT_Prob', 'true_better');
defineTruthRatio('ra_Truth_Ratio', 'realAuthors', 'ra_Q_A_Prob', 'ra_Q_A_PERT_Prob', 'true_better');
defineTruthRatio('wf_Truth_Ratio', 'worldFacts', 'wf_Q_A_Prob', 'wf_Q_A_PERT_Prob', 'true_better');

// open-unlearning `probability`: exp(−mean NLL) of each answer's labelled tokens, averaged over items; a list field
// (perturbed_answer) keeps one value per option and averages each item's options first (`aggregate_to_1D`).
import type { AnswerStats } from './answer-log-probs.js';
import { byIndex, defineMetric, mean, type MetricResult } from './define-metric.js';
import { answerStats, optionStats } from './qa-passes.js';

export function probabilityResult(stats: readonly AnswerStats[]): MetricResult {
  return { agg_value: mean(stats.map((s) => s.prob)), value_by_index: byIndex(stats, (s) => ({ prob: s.prob, avg_loss: s.avgLoss })) };
}

export function optionsProbabilityResult(groups: readonly AnswerStats[][]): MetricResult {
  return {
    agg_value: mean(groups.map((g) => mean(g.map((s) => s.prob)))),
    value_by_index: byIndex(groups, (g) => ({ prob: g.map((s) => s.prob), avg_loss: g.map((s) => s.avgLoss) })),
  };
}

const SPLITS = [['forget', 'forget'], ['retain', 'retain'], ['ra', 'realAuthors'], ['wf', 'worldFacts']] as const;
for (const [prefix, split] of SPLITS) {
  defineMetric({
    name: `${prefix}_Q_A_Prob`, description: `probability of the ${split} answers`, data: [split],
    compute: async (ctx) => probabilityResult(await answerStats(ctx, split, 'answer')),
  });
  defineMetric({
    name: `${prefix}_Q_A_PERT_Prob`, description: `probability of each perturbed (wrong) ${split} answer`, data: [split],
    compute: async (ctx) => optionsProbabilityResult(await optionStats(ctx, split, 'perturbed_answer')),
  });
  if (prefix === 'forget' || prefix === 'retain') {
    defineMetric({
      name: `${prefix}_Q_A_PARA_Prob`, description: `probability of the paraphrased ${split} answers`, data: [split],
      compute: async (ctx) => probabilityResult(await answerStats(ctx, split, 'paraphrased_answer')),
    });
  }
}

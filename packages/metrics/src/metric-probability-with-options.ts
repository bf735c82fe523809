// open-unlearning `probability_w_options` (real_authors / world_facts): P(correct) / (P(correct) + Σ P(wrong_i) + 1e-10).
import { optionNormalisedProbs } from './answer-log-probs.js';
import { byIndex, defineMetric, dependency, mean } from './define-metric.js';

for (const [prefix, split] of [['ra', 'realAuthors'], ['wf', 'worldFacts']] as const) {
  const name = `${prefix}_Q_A_Prob_normalised`;
  const correct = `${prefix}_Q_A_Prob`;
  const wrong = `${prefix}_Q_A_PERT_Prob`;
  defineMetric({
    name, description: `${split} answer probability normalised over the options`, data: [split], dependsOn: [correct, wrong],
    compute: (ctx) => {
      const c = Object.values(dependency(ctx, name, correct).value_by_index!).map((v) => v.prob as number);
      const w = Object.values(dependency(ctx, name, wrong).value_by_index!).map((v) => v.prob as number[]);
      const probs = optionNormalisedProbs(c, w);
      return { agg_value: mean(probs), value_by_index: byIndex(probs, (prob) => ({ prob })) };
    },
  });
}

// open-unlearning `extraction_strength` and `exact_memorization` on the forget answers' teacher-forced greedy
// predictions (the shared forget pass).
import { byIndex, defineMetric, mean } from './define-metric.js';
import { exactMemorization } from './exact-memorization.js';
import { extractionStrength } from './extraction-strength.js';
import { answerStats } from './qa-passes.js';

defineMetric({
  name: 'extraction_strength', description: 'extraction strength of the forget answers (1 − shortest prefix fraction)', data: ['forget'],
  compute: async (ctx) => {
    const es = (await answerStats(ctx, 'forget')).map((s) => extractionStrength(s.predictions, s.labels));
    return { agg_value: mean(es), value_by_index: byIndex(es, (score) => ({ score })) };
  },
});

defineMetric({
  name: 'exact_memorization', description: 'fraction of forget answer tokens the greedy prediction gets right', data: ['forget'],
  compute: async (ctx) => {
    const em = (await answerStats(ctx, 'forget')).map((s) => exactMemorization(s.predictions, s.labels));
    return { agg_value: mean(em.filter((x): x is number => x !== null)), value_by_index: byIndex(em, (score) => ({ score })) };
  },
});

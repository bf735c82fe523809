// open-unlearning `rouge` (`eval_text_similarity`): greedy answers to each question scored against the reference by
// rouge-score's ROUGE-1 / ROUGE-L with the Porter stemmer; agg_value = mean ROUGE-L recall (TOFU) or F1 (MUSE).
// A list field (perturbed answers) scores the one generation against each option, grouped per item.
import { byIndex, defineMetric, mean, type MetricResult } from './define-metric.js';
import { generations, groundTruths } from './qa-passes.js';
import { rougeScores } from './rouge.js';
import type { EvalContext } from './define-metric.js';

export type RougeType = 'rougeL_recall' | 'rougeL_f1' | 'rouge1_recall';

function score(generation: string, groundTruth: string, input: string): Record<string, unknown> {
  const r = rougeScores(generation, groundTruth);
  return { rouge1_recall: r.rouge1.recall, rougeL_f1: r.rougeL.f1, rougeL_recall: r.rougeL.recall, input, ground_truth: groundTruth, generation };
}

export async function rougeResult(ctx: EvalContext, split: string, field: string, rougeType: RougeType = 'rougeL_recall'): Promise<MetricResult> {
  const [gens, refs] = await Promise.all([generations(ctx, split), groundTruths(ctx, split, field)]);
  const list = Array.isArray((ctx.data[split] as Record<string, unknown>[])[0][field]);
  const items = gens.map((g, i) => refs[i].map((ref) => score(g.generation, ref, g.input)));
  if (!list) return { agg_value: mean(items.map((s) => s[0][rougeType] as number)), value_by_index: byIndex(items, (s) => s[0]) };
  // dict_transpose: one list per statistic
  const transposed = items.map((s) => Object.fromEntries(Object.keys(s[0]).map((k) => [k, s.map((x) => x[k])])));
  return { agg_value: mean(transposed.map((t) => mean(t[rougeType] as number[]))), value_by_index: byIndex(transposed, (t) => t) };
}

for (const [name, split, field] of [
  ['forget_Q_A_ROUGE', 'forget', 'answer'], ['forget_Q_A_PARA_ROUGE', 'forget', 'paraphrased_answer'],
  ['forget_Q_A_PERT_ROUGE', 'forget', 'perturbed_answer'], ['retain_Q_A_ROUGE', 'retain', 'answer'],
  ['ra_Q_A_ROUGE', 'realAuthors', 'answer'], ['wf_Q_A_ROUGE', 'worldFacts', 'answer'],
] as const) {
  defineMetric({
    name, description: `ROUGE-L recall of greedy answers to ${split} questions vs the ${field.replace('_', ' ')}`, data: [split],
    compute: (ctx) => rougeResult(ctx, split, field),
  });
}

// MUSE's metrics (Shi et al. 2024) as open-unlearning runs them (configs/eval/muse_metrics/*.yaml), on a user's corpora:
//   forget_verbmem_ROUGE  data.verbmem {prompt, gt}: 128 greedy tokens after the prefix (preprocess_pretraining_instance,
//                         insert_space), ROUGE-L F1 against the continuation
//   forget_knowmem_ROUGE / retain_knowmem_ROUGE  data.{forget,retain}Knowmem {question, answer} with few-shot examples
//                         data.{forget,retain}KnowmemIcl: 32 greedy tokens, stopwords "\n\n", "\nQuestion", "Question:",
//                         ROUGE-L F1
//   muse_mia_min_k / muse_privleak  data.museForget / data.museHoldout {text}: Min-K% on whole texts (BOS masked, no
//                         EOS), privleak against the retain model's muse_mia_min_k (or mia_min_k, the key in
//                         open-unlearning's MUSE_EVAL.json), AUC_retain 0.5 without one
// Sequences are capped at eval's maxLength (open-unlearning: 2048 content tokens, more than small models hold).
import { IGNORE_INDEX, isLabelled } from '@unlearn/core';
import { encodeQa, type EncodedExample, type PromptFormatter } from '@unlearn/data';
import { byIndex, defineMetric, dependency, mean, rowsOf, type EvalContext, type MetricResult } from './define-metric.js';
import { miaResult } from './metric-mia.js';
import { minKScore } from './mia-min-k.js';
import { privleak } from './privleak.js';
import { exampleStats, greedyTexts, memo, referenceText } from './qa-passes.js';
import { retainAgg } from './retain-logs.js';
import { rougeScores } from './rouge.js';

export const KNOWMEM_STOPWORDS = ['\n\n', '\nQuestion', 'Question:'] as const;

/** open-unlearning `preprocess_pretraining_instance`: BOS + prefix (+ ' ') + text; the prefix (at least BOS) masked. */
export async function completionExamples(
  ctx: EvalContext, rows: readonly { prefix: string; text: string }[], insertSpace: boolean, source: string,
): Promise<EncodedExample[]> {
  const [full, prefixes] = await Promise.all([
    ctx.tokenizer.encodeBatch(rows.map((r) => `${r.prefix}${insertSpace ? ' ' : ''}${r.text}`)),
    ctx.tokenizer.encodeBatch(rows.map((r) => r.prefix)),
  ]);
  const cap = ctx.settings.maxLength;
  let cut = 0;
  const examples = full.map((ids, row) => {
    const inputIds = cap === undefined ? ids : ids.slice(0, cap);
    if (inputIds.length < ids.length) cut++;
    const n = Math.max(prefixes[row].length, 1);
    return { inputIds, labels: inputIds.map((id, t) => (t < n ? IGNORE_INDEX : id)), row, truncated: inputIds.length < ids.length, prompt: prefixes[row] };
  });
  if (cut) ctx.warn(`eval: ${source}: ${cut} of ${rows.length} rows cut to maxLength ${cap}`);
  return examples;
}

function rougeF1Result(items: { input: string; generation: string; ground_truth: string }[]): MetricResult {
  const scores = items.map((x) => {
    const r = rougeScores(x.generation, x.ground_truth);
    return { rouge1_recall: r.rouge1.recall, rougeL_f1: r.rougeL.f1, rougeL_recall: r.rougeL.recall, ...x };
  });
  return { agg_value: mean(scores.map((s) => s.rougeL_f1)), value_by_index: byIndex(scores, (s) => s) };
}

defineMetric({
  name: 'forget_verbmem_ROUGE', description: 'MUSE verbatim memorization: ROUGE-L F1 of 128 greedy tokens after each forget-text prefix', data: ['verbmem'],
  compute: async (ctx) => {
    const rows = rowsOf<{ prompt: string; gt: string }>(ctx, 'forget_verbmem_ROUGE', 'verbmem');
    const examples = await completionExamples(ctx, rows.map((r) => ({ prefix: r.prompt, text: r.gt })), true, 'verbmem');
    const gens = await ctx.timed('verbmem_generation', () => greedyTexts(ctx, 'verbmem', examples.map((e) => e.prompt!), 128));
    const refs = await Promise.all(examples.map((e) => referenceText(ctx, e.prompt!, e.inputIds.filter((_, t) => isLabelled(e.labels[t])))));
    return rougeF1Result(gens.map((g, i) => ({ ...g, ground_truth: refs[i] })));
  },
});

/** A few-shot formatter: the examples' full turns (each closed by the template's assistant end tag) before the question. */
export function fewShotFormatter(base: PromptFormatter, shots: readonly { question: string; answer: string }[], asstEnd: string): PromptFormatter {
  const prefix = shots.map((s) => `${base.full(s.question, s.answer)}${asstEnd}`).join('');
  return { ...base, prompt: (q) => `${prefix}${base.prompt(q)}`, full: (q, a) => `${prefix}${base.full(q, a)}` };
}

function defineKnowmem(name: string, key: string, iclKey: string): void {
  defineMetric({
    name, description: `MUSE knowledge memorization: few-shot QA ROUGE-L F1 on data.${key} (examples: data.${iclKey})`, data: [key, iclKey],
    compute: async (ctx) => {
      if (ctx.settings.template === 'chat') throw new Error(`metric ${name}: few-shot prompts need a tag template (plain or llama2-inst), not chat`);
      const rows = rowsOf<{ question: string; answer: string }>(ctx, name, key);
      const shots = rowsOf<{ question: string; answer: string }>(ctx, name, iclKey);
      // open-unlearning asst_end_tag: "\n\n" for base models (Llama-2-7b-hf.yaml), " " for Llama-2-chat
      const formatter = fewShotFormatter(ctx.formatter, shots, ctx.settings.template === 'llama2-inst' ? ' ' : '\n\n');
      const { examples } = await memo(ctx, `encode:${key}`, () => encodeQa(ctx.tokenizer, rows, {
        formatter, maxLength: ctx.settings.maxLength, source: key, boundary: ctx.settings.boundary,
      }));
      const gens = await ctx.timed(`${key}_generation`, () => greedyTexts(ctx, key, examples.map((e) => e.prompt!), 32, KNOWMEM_STOPWORDS));
      const refs = ctx.settings.boundary === 'open-unlearning'
        ? await Promise.all(examples.map((e) => referenceText(ctx, e.prompt!, e.inputIds)))
        : rows.map((r) => r.answer);
      return rougeF1Result(gens.map((g, i) => ({ ...g, ground_truth: refs[i] })));
    },
  });
}
defineKnowmem('forget_knowmem_ROUGE', 'forgetKnowmem', 'forgetKnowmemIcl');
defineKnowmem('retain_knowmem_ROUGE', 'retainKnowmem', 'retainKnowmemIcl');

defineMetric({
  name: 'muse_mia_min_k', description: 'MUSE privleak attack: Min-K% AUC on member (museForget) vs holdout (museHoldout) texts', data: ['museForget', 'museHoldout'],
  compute: async (ctx) => {
    const side = async (key: string): Promise<number[]> => {
      const rows = rowsOf<{ text: string }>(ctx, 'muse_mia_min_k', key);
      const examples = await completionExamples(ctx, rows.map((r) => ({ prefix: '', text: r.text })), false, key);
      const stats = await ctx.timed(`${key}_teacher_forced`, () => exampleStats(ctx, key, examples));
      return stats.map((s) => minKScore(s.tokenLogProbs, ctx.settings.k));
    };
    return miaResult(await side('museForget'), await side('museHoldout'));
  },
});

defineMetric({
  name: 'muse_privleak', description: "MUSE privleak: relative Min-K% AUC gap to the retain-only model's (0.5 without one)",
  data: ['museForget', 'museHoldout'], dependsOn: ['muse_mia_min_k'],
  compute: (ctx) => {
    const ref = retainAgg(ctx.retainLogs, 'muse_mia_min_k') ?? retainAgg(ctx.retainLogs, 'mia_min_k');
    if (ref === undefined) ctx.warn('muse_privleak: no retain-only muse_mia_min_k; AUC_retain = 0.5');
    return { agg_value: privleak(dependency(ctx, 'muse_privleak', 'muse_mia_min_k').agg_value as number, ref ?? 0.5) };
  },
});

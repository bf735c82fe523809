// Membership-inference attacks as open-unlearning's `mia_auc` runs them: one score per forget and holdout answer,
// then ROC AUC with forget = 0, holdout = 1 (AUC → 1 when forget answers look like training members). Scores share
// the forget/holdout teacher-forced pass; mia_reference adds the reference model's pass (mia-reference.ts).
import type { AnswerStats } from './answer-log-probs.js';
import { byIndex, defineMetric, mean, type EvalContext, type MetricResult } from './define-metric.js';
import { lossScore } from './mia-loss.js';
import { minKScore } from './mia-min-k.js';
import { minKPlusPlusScore } from './mia-min-k-plus-plus.js';
import { zlibScore } from './mia-zlib.js';
import { answerStats, labelTexts } from './qa-passes.js';
import { rocAuc } from './roc-auc.js';

/** open-unlearning's MIA result from per-item forget and holdout scores. */
export function miaResult(forgetScores: readonly number[], holdoutScores: readonly number[]): MetricResult {
  const auc = rocAuc([...forgetScores, ...holdoutScores], [...forgetScores.map(() => 0), ...holdoutScores.map(() => 1)]);
  return {
    forget: { agg_value: mean(forgetScores), value_by_index: byIndex(forgetScores, (score) => ({ score })) },
    holdout: { agg_value: mean(holdoutScores), value_by_index: byIndex(holdoutScores, (score) => ({ score })) },
    auc,
    agg_value: auc,
  };
}

type Scorer = (ctx: EvalContext, stats: AnswerStats, text: string) => number;

export function defineMia(name: string, description: string, score: Scorer): void {
  defineMetric({
    name, description, data: ['forget', 'holdout'],
    compute: async (ctx) => {
      const side = async (split: string): Promise<number[]> => {
        const [stats, texts] = await Promise.all([answerStats(ctx, split, 'answer'), labelTexts(ctx, split, 'answer')]);
        return stats.map((s, i) => score(ctx, s, texts[i]));
      };
      return miaResult(await side('forget'), await side('holdout'));
    },
  });
}

defineMia('mia_loss', 'LOSS attack AUC, forget vs holdout', (_, s) => lossScore(s.avgLoss));
defineMia('mia_zlib', 'ZLib attack AUC (loss / zlib length of the answer)', (_, s, text) => zlibScore(s.avgLoss, text));
defineMia('mia_min_k', 'Min-K% attack AUC', (ctx, s) => minKScore(s.tokenLogProbs, ctx.settings.k));
defineMia('mia_min_k_plus_plus', 'Min-K%++ attack AUC', (ctx, s) => minKPlusPlusScore(s.tokenLogProbs, s.vocabMeans!, s.vocabVariances!, ctx.settings.k));

const referenceMemos = new WeakMap<Map<string, Promise<unknown>>, Map<string, Promise<unknown>>>();

/** The same passes on ctx.referenceModel (their own memo). */
export function referenceContext(ctx: EvalContext, self: string): EvalContext {
  if (!ctx.referenceModel) throw new Error(`metric ${self}: needs a reference model (evaluateMetrics option referenceModel; eval.retainModel in a run)`);
  let memo = referenceMemos.get(ctx.memo);
  if (!memo) referenceMemos.set(ctx.memo, (memo = new Map()));
  return { ...ctx, model: ctx.referenceModel, memo };
}

// open-unlearning `ReferenceAttack`: target avg loss − reference avg loss (the reference: the retain-only model)
defineMetric({
  name: 'mia_reference', description: "reference attack AUC (loss minus the reference model's loss)", data: ['forget', 'holdout'],
  compute: async (ctx) => {
    const ref = referenceContext(ctx, 'mia_reference');
    const side = async (split: string): Promise<number[]> => {
      const [target, reference] = await Promise.all([answerStats(ctx, split), answerStats(ref, split)]);
      return target.map((t, i) => t.avgLoss - reference[i].avgLoss);
    };
    return miaResult(await side('forget'), await side('holdout'));
  },
});

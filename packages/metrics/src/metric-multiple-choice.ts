// Multiple-choice accuracy by option log-likelihood (the shape of WMDP / MMLU in lm-evaluation-harness): each option
// is scored as the continuation " {choice}" of the prompt (the evaluation's template, e.g. "Question: {q}\nAnswer:";
// trailing spaces of the prompt move into the continuation, as lm-evaluation-harness does),
// log-likelihood = Σ log p over the continuation's tokens (common-prefix boundary, no EOS); acc = the gold option has
// the highest log-likelihood, acc_norm = highest log-likelihood per character of " {choice}".
// data.multipleChoice rows: { question, choices: string[], answer: index of the gold choice }.
import { encodeQa } from '@unlearn/data';
import { byIndex, defineMetric, mean, rowsOf } from './define-metric.js';
import { exampleStats } from './qa-passes.js';

export interface MultipleChoiceRow {
  question: string;
  choices: string[];
  answer: number;
}

const argmax = (xs: readonly number[]): number => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);

defineMetric({
  name: 'mc_accuracy', description: 'multiple-choice accuracy by option log-likelihood (data.multipleChoice: question, choices, answer)', data: ['multipleChoice'],
  compute: async (ctx) => {
    const rows = rowsOf<MultipleChoiceRow>(ctx, 'mc_accuracy', 'multipleChoice');
    rows.forEach((r, i) => {
      if (!Array.isArray(r.choices) || r.choices.length < 2 || !Number.isInteger(r.answer) || r.answer < 0 || r.answer >= r.choices.length) {
        throw new Error(`metric mc_accuracy: data.multipleChoice[${i}] needs choices (2 or more) and answer (an index into them)`);
      }
    });
    const pairs = rows.flatMap((r) => r.choices.map((c) => ({ question: r.question, answer: c })));
    // lm-evaluation-harness `_encode_pair`: trailing spaces of the context belong to the continuation
    const formatter = { ...ctx.formatter, prompt: (q: string) => ctx.formatter.prompt(q).replace(/ +$/, '') };
    const { examples } = await encodeQa(ctx.tokenizer, pairs, { formatter, appendEos: false, maxLength: ctx.settings.maxLength, source: 'multipleChoice' });
    const stats = await ctx.timed('multipleChoice_teacher_forced', () => exampleStats(ctx, 'multipleChoice', examples));
    let at = 0;
    const items = rows.map((r) => {
      const loglik = r.choices.map(() => -stats[at++].nll);
      const pred = argmax(loglik);
      const predNorm = argmax(loglik.map((l, j) => l / (r.choices[j].length + 1)));
      return { loglik, pred, pred_norm: predNorm, correct: pred === r.answer ? 1 : 0, correct_norm: predNorm === r.answer ? 1 : 0 };
    });
    return {
      agg_value: mean(items.map((x) => x.correct)), acc_norm: mean(items.map((x) => x.correct_norm)), value_by_index: byIndex(items, (x) => x),
    };
  },
});

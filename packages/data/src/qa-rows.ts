// Row schemas and types of question-answer data, in TOFU's field names (Maini et al. 2024, "TOFU: A Task of
// Fictitious Unlearning for LLMs"; the locuslab/TOFU JSON Lines files).
import { z } from 'zod';

const text = z.string();

/** A question with its ground-truth answer: forget*, retain*, holdout*, full, and any generic QA file. */
export const qaRowSchema = z.object({ question: text, answer: text });
export type QaRow = z.infer<typeof qaRowSchema>;

/** forget*_perturbed, retain_perturbed: a paraphrased question/answer and wrong answers in the paraphrase's wording. */
export const perturbedQaRowSchema = qaRowSchema.extend({
  paraphrased_question: text,
  paraphrased_answer: text,
  perturbed_answer: z.array(text).min(1),
});
export type PerturbedQaRow = z.infer<typeof perturbedQaRowSchema>;

/** real_authors, world_facts: four options, one of which is the answer. */
export const optionsQaRowSchema = qaRowSchema
  .extend({ option1: text, option2: text, option3: text, option4: text })
  .refine((row) => [row.option1, row.option2, row.option3, row.option4].includes(row.answer), {
    message: 'must equal one of option1..option4',
    path: ['answer'],
  });
export type OptionsQaRow = z.infer<typeof optionsQaRowSchema>;

/** real_authors_perturbed, world_facts_perturbed: the answer and the wrong options (no paraphrase). */
export const optionsPerturbedQaRowSchema = qaRowSchema.extend({ perturbed_answer: z.array(text).min(1) });
export type OptionsPerturbedQaRow = z.infer<typeof optionsPerturbedQaRowSchema>;

/** The four options of an options row, in file order. */
export function optionsOf(row: OptionsQaRow): [string, string, string, string] {
  return [row.option1, row.option2, row.option3, row.option4];
}

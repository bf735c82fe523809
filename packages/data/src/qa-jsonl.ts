// Generic question-answer JSON Lines: any file whose rows carry a question and an answer field.
import { z } from 'zod';
import { readJsonLines } from './jsonl.js';
import type { QaRow } from './qa-rows.js';

export interface QaJsonlOptions {
  /** Field holding the question (default `question`). */
  questionField?: string;
  /** Field holding the answer (default `answer`). */
  answerField?: string;
}

/** Load `{question, answer}` rows from a JSON Lines file, reading them from the named fields. */
export async function loadQaJsonl(file: string, options: QaJsonlOptions = {}): Promise<QaRow[]> {
  const questionField = options.questionField ?? 'question';
  const answerField = options.answerField ?? 'answer';
  const schema = z
    .object({ [questionField]: z.string(), [answerField]: z.string() })
    .transform((row): QaRow => ({ question: row[questionField] as string, answer: row[answerField] as string }));
  return readJsonLines(file, schema);
}

// The QA splits a training run needs, read from a TOFU-format folder (real TOFU, or the demo's generated authors), with
// an optional subset of authors that keeps TOFU's structure (each author = `qaPerAuthor` consecutive rows). The
// evaluation splits come from @unlearn/data's `loadTofuSuiteData` (./evaluate.ts).
import type { Tokenizer } from '@unlearn/core';
import {
  encodeQa, firstAuthors, loadTofuSplit, templateFormatter, type EncodedExample, type QaRow, type TemplateSettings, type TofuSplit,
} from '@unlearn/data';
import type { RunConfig } from './config/schema.js';

export interface QaSplits {
  /** Fine-tuning rows (`data.train`; `full` under an author subset = the forget + retain subsets). Empty unless asked. */
  train: QaRow[];
  forget: QaRow[];
  retain: QaRow[];
}

/** Loads the configured forget / retain splits, and the fine-tuning set when `need.train`. */
export async function loadSplits(data: RunConfig['data'], need: { train?: boolean } = {}): Promise<QaSplits> {
  const { dir, qaPerAuthor } = data;
  const forget = firstAuthors((await loadTofuSplit(dir, data.forget as TofuSplit)) as QaRow[], data.forgetAuthors, qaPerAuthor);
  const retain = firstAuthors((await loadTofuSplit(dir, data.retain as TofuSplit)) as QaRow[], data.retainAuthors, qaPerAuthor);
  const subset = data.forgetAuthors !== undefined || data.retainAuthors !== undefined;
  let train: QaRow[] = [];
  if (need.train) {
    if (subset && data.train === 'full') train = [...retain, ...forget];
    else if (subset && data.train === data.retain) train = retain;
    else train = (await loadTofuSplit(dir, data.train as TofuSplit)) as QaRow[];
    for (const extra of data.extraTrain) {
      const rows = (await loadTofuSplit(dir, extra as TofuSplit)) as QaRow[];
      train = [...train, ...rows.map((r) => ({ question: r.question, answer: r.answer }))];
    }
  }
  return { train, forget, retain };
}

/**
 * Tokenizes QA rows with the run's prompt format and answer boundary (`template`: eval-template.ts; default TOFU's
 * plain format) and label mask, cutting answers that overflow `maxLength`.
 */
export async function encodeRows(
  tokenizer: Tokenizer, rows: readonly QaRow[], maxLength: number, source: string, template: TemplateSettings = {},
): Promise<EncodedExample[]> {
  const formatter = templateFormatter(tokenizer, template);
  return (await encodeQa(tokenizer, rows, { maxLength, source, formatter, boundary: template.boundary })).examples;
}

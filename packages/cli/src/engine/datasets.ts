// The QA splits a run needs, read from a TOFU-format folder (real TOFU, or the demo's generated authors), with an
// optional subset of authors that keeps TOFU's structure (each author = `qaPerAuthor` consecutive rows).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Tokenizer } from '@unlearn/core';
import { encodeQa, loadTofuSplit, type EncodedExample, type PerturbedQaRow, type QaRow, type TofuSplit } from '@unlearn/data';
import type { RunConfig } from '../config/schema.js';

export interface QaSplits {
  /** Fine-tuning rows (`data.train`; `full` under an author subset = the forget + retain subsets). */
  train: QaRow[];
  forget: QaRow[];
  retain: QaRow[];
  holdout?: QaRow[];
  /** Forget rows with paraphrased + perturbed answers, aligned with `forget` (truth ratio, forget quality). */
  forgetPerturbed?: PerturbedQaRow[];
  retainPerturbed?: PerturbedQaRow[];
}

const percentOf = (split: string) => /(\d\d)$/.exec(split)?.[1];

async function optionalSplit<S extends TofuSplit>(dir: string, split: S) {
  return existsSync(path.join(dir, `${split}.json`)) ? loadTofuSplit(dir, split) : undefined;
}

function firstAuthors<T>(rows: T[], authors: number | undefined, perAuthor: number): T[] {
  return authors === undefined ? rows : rows.slice(0, authors * perAuthor);
}

/** Loads the configured splits; `need` says which ones must exist. */
export async function loadSplits(data: RunConfig['data'], need: { train?: boolean } = {}): Promise<QaSplits> {
  const { dir, qaPerAuthor } = data;
  const forgetAll = await loadTofuSplit(dir, data.forget as TofuSplit);
  const retainAll = await loadTofuSplit(dir, data.retain as TofuSplit);
  const forget = firstAuthors(forgetAll as QaRow[], data.forgetAuthors, qaPerAuthor);
  const retain = firstAuthors(retainAll as QaRow[], data.retainAuthors, qaPerAuthor);
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
  const pct = percentOf(data.forget);
  const holdoutName = data.holdout ?? (pct ? `holdout${pct}` : undefined);
  const holdout = holdoutName ? await optionalSplit(dir, holdoutName as TofuSplit) : undefined;
  const forgetPerturbed = (await optionalSplit(dir, `${data.forget}_perturbed` as TofuSplit)) as PerturbedQaRow[] | undefined;
  const retainPerturbed = (await optionalSplit(dir, 'retain_perturbed')) as PerturbedQaRow[] | undefined;
  return {
    train,
    forget,
    retain,
    holdout: holdout ? firstAuthors(holdout as QaRow[], data.forgetAuthors, qaPerAuthor) : undefined,
    forgetPerturbed: forgetPerturbed ? firstAuthors(forgetPerturbed, data.forgetAuthors, qaPerAuthor) : undefined,
    retainPerturbed,
  };
}

/** Tokenizes QA rows with TOFU's prompt format and label mask, cutting answers that overflow `maxLength`. */
export async function encodeRows(tokenizer: Tokenizer, rows: readonly QaRow[], maxLength: number, source: string): Promise<EncodedExample[]> {
  return (await encodeQa(tokenizer, rows, { maxLength, source })).examples;
}

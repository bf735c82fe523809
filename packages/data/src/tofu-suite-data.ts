// The five TOFU splits the evaluation suite reads (open-unlearning's configs/eval/tofu.yaml): forgetNN_perturbed,
// holdoutNN, retain_perturbed, real_authors_perturbed and world_facts_perturbed — the one loader for the suite, the
// pipeline's `evaluate` and the metrics tests. An author subset keeps TOFU's structure (each author = `qaPerAuthor`
// consecutive rows of the forget-side splits).
import type { OptionsPerturbedQaRow, PerturbedQaRow, QaRow } from './qa-rows.js';
import { loadTofuSplit, type TofuSplit } from './tofu.js';

export interface TofuSuiteData {
  /** `forgetNN_perturbed`: question, answer, paraphrased_answer, perturbed_answer[]. */
  forget: PerturbedQaRow[];
  /** `holdoutNN`: the MIA non-members. */
  holdout: QaRow[];
  /** `retain_perturbed`. */
  retain: PerturbedQaRow[];
  /** `real_authors_perturbed`: answer + perturbed_answer[] options. */
  realAuthors: OptionsPerturbedQaRow[];
  /** `world_facts_perturbed`. */
  worldFacts: OptionsPerturbedQaRow[];
}

export interface TofuSuiteDataOptions {
  /** The forget split whose `_perturbed` file is read (default `forget10`). */
  forget?: string;
  /** The MIA holdout split (default `holdoutNN` with the forget split's NN). */
  holdout?: string;
  /** Only the first N authors of the forget and holdout splits. */
  forgetAuthors?: number;
  /** QA pairs per author (TOFU: 20). */
  qaPerAuthor?: number;
  /** Keep at most the first `limit` rows of each split (tests, smoke runs). */
  limit?: number;
}

/** The first `authors` authors' rows (all rows when `authors` is undefined). */
export function firstAuthors<T>(rows: T[], authors: number | undefined, perAuthor = 20): T[] {
  return authors === undefined ? rows : rows.slice(0, authors * perAuthor);
}

/** Reads the suite's five splits from a TOFU-format folder; a missing file fails naming it. */
export async function loadTofuSuiteData(dir: string, options: TofuSuiteDataOptions = {}): Promise<TofuSuiteData> {
  const forgetSplit = options.forget ?? 'forget10';
  const pct = /(\d\d)$/.exec(forgetSplit)?.[1];
  const holdoutSplit = options.holdout ?? (pct ? `holdout${pct}` : undefined);
  if (!holdoutSplit) throw new Error(`loadTofuSuiteData: no holdout split for "${forgetSplit}" (name one with options.holdout)`);
  const take = <T>(rows: T[]): T[] => (options.limit === undefined ? rows : rows.slice(0, options.limit));
  const authors = <T>(rows: T[]): T[] => take(firstAuthors(rows, options.forgetAuthors, options.qaPerAuthor));
  const [forget, holdout, retain, realAuthors, worldFacts] = await Promise.all([
    loadTofuSplit(dir, `${forgetSplit}_perturbed` as TofuSplit),
    loadTofuSplit(dir, holdoutSplit as TofuSplit),
    loadTofuSplit(dir, 'retain_perturbed'),
    loadTofuSplit(dir, 'real_authors_perturbed'),
    loadTofuSplit(dir, 'world_facts_perturbed'),
  ]);
  return {
    forget: authors(forget as PerturbedQaRow[]),
    holdout: authors(holdout as QaRow[]),
    retain: take(retain as PerturbedQaRow[]),
    realAuthors: take(realAuthors),
    worldFacts: take(worldFacts),
  };
}

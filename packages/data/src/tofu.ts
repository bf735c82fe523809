// Loaders for every split of TOFU (Maini et al. 2024) as distributed in JSON Lines: `<dir>/<split>.json`,
// plus `idontknow.jsonl`, the refusal strings TOFU's IdK objective trains on (one per line).
import path from 'node:path';
import type { ZodType, ZodTypeDef } from 'zod';
import { DataError } from './data-error.js';
import { readJsonLines, readTextFile } from './jsonl.js';
import {
  optionsPerturbedQaRowSchema,
  optionsQaRowSchema,
  perturbedQaRowSchema,
  qaRowSchema,
  type OptionsPerturbedQaRow,
  type OptionsQaRow,
  type PerturbedQaRow,
  type QaRow,
} from './qa-rows.js';

/**
 * TOFU's split names: `full`, `forget01|05|10`, `retain90|95|99`, `holdout01|05|10` (and any other two-digit
 * percentage, as the demo generator writes), their `_perturbed` variants, `real_authors`, `world_facts`.
 */
export type TofuSplit =
  | 'full'
  | `${'forget' | 'retain' | 'holdout'}${number}`
  | `forget${number}_perturbed`
  | 'retain_perturbed'
  | 'real_authors'
  | 'world_facts'
  | 'real_authors_perturbed'
  | 'world_facts_perturbed';

/** The row type a split's file holds. */
export type TofuRow<S extends TofuSplit> = S extends 'real_authors' | 'world_facts'
  ? OptionsQaRow
  : S extends 'real_authors_perturbed' | 'world_facts_perturbed'
    ? OptionsPerturbedQaRow
    : S extends `${string}_perturbed`
      ? PerturbedQaRow
      : QaRow;

type AnySchema = ZodType<unknown, ZodTypeDef, unknown>;
const SPLIT_FAMILIES: [RegExp, AnySchema][] = [
  [/^(full|forget\d\d|retain\d\d|holdout\d\d)$/, qaRowSchema],
  [/^(forget\d\d_perturbed|retain_perturbed)$/, perturbedQaRowSchema],
  [/^(real_authors|world_facts)$/, optionsQaRowSchema],
  [/^(real_authors|world_facts)_perturbed$/, optionsPerturbedQaRowSchema],
];

/** The splits of the TOFU release. */
export const TOFU_SPLITS = [
  'full', 'forget01', 'forget05', 'forget10', 'retain90', 'retain95', 'retain99', 'holdout01', 'holdout05', 'holdout10',
  'forget01_perturbed', 'forget05_perturbed', 'forget10_perturbed', 'retain_perturbed',
  'real_authors', 'world_facts', 'real_authors_perturbed', 'world_facts_perturbed',
] as const satisfies readonly TofuSplit[];

/** The forget/retain/holdout splits TOFU evaluates together, by forget percentage. */
export const TOFU_SPLIT_SETS = {
  forget01: { forget: 'forget01', retain: 'retain99', holdout: 'holdout01', forgetPerturbed: 'forget01_perturbed' },
  forget05: { forget: 'forget05', retain: 'retain95', holdout: 'holdout05', forgetPerturbed: 'forget05_perturbed' },
  forget10: { forget: 'forget10', retain: 'retain90', holdout: 'holdout10', forgetPerturbed: 'forget10_perturbed' },
} as const satisfies Record<string, Record<string, TofuSplit>>;

/** Whether `name` is a TOFU split name (for validating user input before `loadTofuSplit`). */
export function isTofuSplitName(name: string): name is TofuSplit {
  return SPLIT_FAMILIES.some(([pattern]) => pattern.test(name));
}

/** Load `<dir>/<split>.json`, every row validated against its split family's schema. */
export async function loadTofuSplit<S extends TofuSplit>(dir: string, split: S): Promise<TofuRow<S>[]> {
  const file = path.join(dir, `${split}.json`);
  const family = SPLIT_FAMILIES.find(([pattern]) => pattern.test(split));
  if (family === undefined) throw new DataError(file, null, `"${split}" is not a TOFU split name (e.g. ${TOFU_SPLITS.slice(0, 4).join(', ')})`);
  return readJsonLines(file, family[1]) as Promise<TofuRow<S>[]>;
}

/**
 * Refusal strings, one per line (TOFU's `idontknow.jsonl` is plain text despite its name; a line that is a JSON
 * string literal is decoded). Blank lines are skipped; duplicates kept (they weight the draw as in TOFU).
 */
export async function loadIdkAnswers(file: string): Promise<string[]> {
  const answers: string[] = [];
  const lines = (await readTextFile(file)).split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (line === '') continue;
    if (line.startsWith('"')) {
      try {
        line = String(JSON.parse(line));
      } catch {
        throw new DataError(file, i + 1, 'line starts with a quote but is not a JSON string');
      }
    }
    answers.push(line);
  }
  if (answers.length === 0) throw new DataError(file, null, 'no refusal strings (the file is empty)');
  return answers;
}

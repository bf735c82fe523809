// Question-answer rows → token ids with Hugging Face labels: prompt tokens get IGNORE_INDEX (no loss), answer tokens their
// ids, then EOS when configured — TOFU's recipe (Maini et al. 2024, `convert_raw_data_to_model_format`): tokenize the
// prompt and the full text, mask the prompt's length of the full text.
// Two boundary rules (`boundary`):
//   'project' (default)  answer start = the common token prefix of prompt and full text (a token straddling the
//                        boundary is scored), EOS appended unless the template ends the turn, the answer's end cut to fit.
//   'open-unlearning'    `preprocess_chat_instance` exactly: prompt and full text each tokenized and truncated to
//                        maxLength, EOS appended when the last token is not EOS (chat rows too), the first
//                        len(prompt_ids) tokens of the full sequence masked. With SentencePiece, "Answer: " ends in a
//                        lone `▁` that merges into the first answer token, so that token is never scored.
import { IGNORE_INDEX, type Tokenizer } from '@unlearn/core';
import { DataError } from './data-error.js';
import { plainTemplate, type PromptFormatter } from './prompt-template.js';
import type { QaRow } from './qa-rows.js';

/** One tokenized sequence, not yet padded. `labels` is aligned with `inputIds` (IGNORE_INDEX = no loss). */
export interface EncodedExample {
  inputIds: number[];
  labels: number[];
  /** Index of the source row (QA) or window (text) this came from. */
  row: number;
  /** True when tokens were cut from the answer's end to fit `maxLength`. */
  truncated: boolean;
  /** The ids a generation starts from (the prompt as this boundary rule sees it); set by encodeQa. */
  prompt?: number[];
}

/**
 * What to do with a row longer than `maxLength`:
 * - `truncate-answer` cut the answer's end (EOS first); a row whose prompt leaves no answer token is an error;
 * - `skip` leave the row out and list it in the report;
 * - `error` throw.
 */
export type OverflowPolicy = 'truncate-answer' | 'skip' | 'error';

export interface EncodeQaOptions {
  /** Default: plainTemplate() (`Question: …\nAnswer: …`). */
  formatter?: PromptFormatter;
  /** Append the tokenizer's EOS after the answer (labelled, so the model learns to stop). Default: unless the template ends the turn itself. */
  appendEos?: boolean;
  maxLength?: number;
  overflow?: OverflowPolicy;
  /** Names the data in errors, e.g. the file the rows came from (`forget10.json:17: …`, row numbers 1-based). */
  source?: string;
  /** Where the answer starts and when EOS is added: 'project' (default) or 'open-unlearning' (see the file comment). */
  boundary?: 'project' | 'open-unlearning';
}

export interface EncodeQaReport {
  rows: number;
  /** Rows whose answer end was cut to fit maxLength. */
  truncatedRows: number[];
  /** Answer tokens removed by truncation, all rows together. */
  tokensCut: number;
  /** Rows left out under `overflow: 'skip'`. */
  skippedRows: number[];
  /**
   * Rows whose prompt tokens are not a prefix of the full text's tokens (a merge across the prompt/answer boundary).
   * Their boundary is the longest common prefix, so the straddling token carries loss.
   */
  boundaryMerges: number[];
}

export interface EncodedQa {
  examples: EncodedExample[];
  report: EncodeQaReport;
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Tokenize QA rows into label-masked examples; see EncodeQaOptions for truncation. */
export async function encodeQa(tokenizer: Tokenizer, rows: readonly QaRow[], options: EncodeQaOptions = {}): Promise<EncodedQa> {
  const formatter = options.formatter ?? plainTemplate();
  const appendEos = options.appendEos ?? !formatter.endsTurn;
  const overflow = options.overflow ?? 'truncate-answer';
  const source = options.source ?? 'rows';
  const { maxLength } = options;
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 2)) {
    throw new DataError(source, null, `maxLength must be an integer >= 2, got ${maxLength}`);
  }
  if (appendEos && tokenizer.eosTokenId === null) {
    throw new DataError(source, null, 'appendEos is set but the tokenizer has no EOS token');
  }
  const encodeOptions = { addSpecialTokens: formatter.addSpecialTokens };
  const [promptIds, fullIds] = await Promise.all([
    tokenizer.encodeBatch(rows.map((r) => formatter.prompt(r.question)), encodeOptions),
    tokenizer.encodeBatch(rows.map((r) => formatter.full(r.question, r.answer)), encodeOptions),
  ]);

  const report: EncodeQaReport = { rows: rows.length, truncatedRows: [], tokensCut: 0, skippedRows: [], boundaryMerges: [] };
  const examples: EncodedExample[] = [];
  if (options.boundary === 'open-unlearning') {
    if (tokenizer.eosTokenId === null) throw new DataError(source, null, "boundary 'open-unlearning' appends EOS but the tokenizer has none");
    for (let row = 0; row < rows.length; row++) {
      const prompt = promptIds[row].slice(0, maxLength);
      const inputIds = fullIds[row].slice(0, maxLength);
      const truncated = inputIds.length < fullIds[row].length;
      if (truncated) {
        if (overflow === 'error') throw new DataError(source, row + 1, `row is ${fullIds[row].length} tokens, over maxLength ${maxLength}`);
        if (overflow === 'skip') {
          report.skippedRows.push(row);
          continue;
        }
        report.truncatedRows.push(row);
        report.tokensCut += fullIds[row].length - inputIds.length;
      }
      if (commonPrefixLength(prompt, inputIds) < prompt.length) report.boundaryMerges.push(row);
      if (inputIds[inputIds.length - 1] !== tokenizer.eosTokenId) inputIds.push(tokenizer.eosTokenId);
      if (prompt.length >= inputIds.length) {
        throw new DataError(source, row + 1, 'the answer has no tokens after the prompt (open-unlearning: "no valid target tokens")');
      }
      const labels = inputIds.map((id, t) => (t < prompt.length ? IGNORE_INDEX : id));
      examples.push({ inputIds, labels, row, truncated, prompt });
    }
    return { examples, report };
  }
  for (let row = 0; row < rows.length; row++) {
    const inputIds = fullIds[row].slice();
    const answerStart = commonPrefixLength(promptIds[row], inputIds);
    if (answerStart < promptIds[row].length) report.boundaryMerges.push(row);
    // Some tokenizers (add_eos_token) end every encoding with EOS: that EOS then belongs to the answer anyway.
    if (appendEos && inputIds[inputIds.length - 1] !== tokenizer.eosTokenId) inputIds.push(tokenizer.eosTokenId as number);
    if (inputIds.length === answerStart) {
      throw new DataError(source, row + 1, 'the answer has no tokens (empty answer and no EOS appended)');
    }
    let truncated = false;
    if (maxLength !== undefined && inputIds.length > maxLength) {
      const describe = `is ${inputIds.length} tokens (prompt ${answerStart}), over maxLength ${maxLength}`;
      if (overflow === 'error') throw new DataError(source, row + 1, `row ${describe}`);
      if (overflow === 'skip') {
        report.skippedRows.push(row);
        continue;
      }
      if (answerStart >= maxLength) {
        throw new DataError(source, row + 1, `row ${describe}: no answer token would remain (raise maxLength or use overflow 'skip')`);
      }
      report.tokensCut += inputIds.length - maxLength;
      report.truncatedRows.push(row);
      inputIds.length = maxLength;
      truncated = true;
    }
    const labels = inputIds.map((id, t) => (t < answerStart ? IGNORE_INDEX : id));
    examples.push({ inputIds, labels, row, truncated, prompt: inputIds.slice(0, answerStart) });
  }
  return { examples, report };
}

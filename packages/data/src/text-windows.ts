// Plain text → fixed-size token windows for language-model training or perplexity. Documents (split on an optional
// separator such as `<|endoftext|>`) are tokenized, joined, and cut into windows of `windowTokens`. With a stride
// shorter than the window, the overlap is context only (labels IGNORE_INDEX), so each token is scored once — the sliding-window
// evaluation of the Hugging Face perplexity guide.
import type { Tokenizer } from '@unlearn/core';
import { DataError } from './data-error.js';
import { IGNORE_INDEX } from '@unlearn/core';
import type { EncodedExample } from './encode-qa.js';
import { readTextFile } from './jsonl.js';

export interface TextWindowOptions {
  windowTokens: number;
  /** Start-to-start distance of consecutive windows (default: windowTokens, no overlap). */
  stride?: number;
  /** Splits the text into documents, each tokenized on its own (e.g. `<|endoftext|>`). Default: one document. */
  documentSeparator?: string;
  /** Let the tokenizer add BOS (and EOS, if it does) to each document. Default true. */
  addSpecialTokens?: boolean;
  /** End each document with EOS, when the tokenizer has one. Default true. */
  appendEos?: boolean;
  /** Drop a last window shorter than this (a 1-token window predicts nothing). Default 2. */
  minTokens?: number;
  /** Names the text in errors. */
  source?: string;
}

/** Tokenize `text` into windows; see TextWindowOptions. Each example's `row` is its window index. */
export async function textWindows(tokenizer: Tokenizer, text: string, options: TextWindowOptions): Promise<EncodedExample[]> {
  const source = options.source ?? 'text';
  const { windowTokens } = options;
  const stride = options.stride ?? windowTokens;
  const minTokens = options.minTokens ?? 2;
  if (!Number.isInteger(windowTokens) || windowTokens < 2) throw new DataError(source, null, `windowTokens must be an integer >= 2, got ${windowTokens}`);
  if (!Number.isInteger(stride) || stride < 1 || stride > windowTokens) {
    throw new DataError(source, null, `stride must be an integer in [1, windowTokens=${windowTokens}], got ${stride}`);
  }
  const documents = (options.documentSeparator === undefined ? [text] : text.split(options.documentSeparator))
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  if (documents.length === 0) throw new DataError(source, null, 'no text');
  const encoded = await tokenizer.encodeBatch(documents, { addSpecialTokens: options.addSpecialTokens ?? true });
  const eos = (options.appendEos ?? true) ? tokenizer.eosTokenId : null;
  const ids: number[] = [];
  for (const doc of encoded) {
    for (const id of doc) ids.push(id);
    if (eos !== null && doc[doc.length - 1] !== eos) ids.push(eos);
  }

  const windows: EncodedExample[] = [];
  for (let start = 0; start < ids.length; start += stride) {
    const inputIds = ids.slice(start, start + windowTokens);
    if (inputIds.length < minTokens) break;
    // Tokens already scored by the previous window are context here.
    const scoredFrom = start === 0 ? 0 : windowTokens - stride;
    const labels = inputIds.map((id, t) => (t < scoredFrom ? IGNORE_INDEX : id));
    windows.push({ inputIds, labels, row: windows.length, truncated: false });
    if (start + windowTokens >= ids.length) break;
  }
  return windows;
}

/** Read a UTF-8 text file and cut it into token windows. */
export async function loadTextWindows(file: string, tokenizer: Tokenizer, options: TextWindowOptions): Promise<EncodedExample[]> {
  return textWindows(tokenizer, await readTextFile(file), { source: file, ...options });
}

// Encoded examples → a padded TokenBatch (int32 tensors [batch, seq]). Padding gets attention 0 and label IGNORE_INDEX.
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer, TokenBatch, UnlearnBatch } from '@unlearn/core';
import { IGNORE_INDEX } from '@unlearn/core';
import type { EncodedExample } from './encode-qa.js';

export type PaddingSide = 'left' | 'right';

export interface CollateOptions {
  /** Id written into padded positions (they are masked out, so any valid id works). */
  padTokenId: number;
  /** `right` for training (default); `left` lines up prompt ends for batched generation. */
  paddingSide?: PaddingSide;
  /** Pad to at least this length (e.g. a fixed shape for a compiled backend); default the longest example. */
  padToLength?: number;
}

/** The tokenizer's pad id, else its EOS, else 0 — the usual fallback for Llama-family tokenizers without a pad token. */
export function defaultPadTokenId(tokenizer: Tokenizer): number {
  return tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0;
}

/** Plain arrays of a padded batch, row-major [batch * seq]. */
export interface PaddedArrays {
  batch: number;
  seq: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  labels: Int32Array;
}

/** Pad examples into flat int32 arrays (no tensors): the testable core of `collate`. */
export function padExamples(examples: readonly EncodedExample[], options: CollateOptions): PaddedArrays {
  if (examples.length === 0) throw new Error('collate: no examples');
  const longest = Math.max(...examples.map((e) => e.inputIds.length));
  const seq = Math.max(longest, options.padToLength ?? 0);
  const batch = examples.length;
  const inputIds = new Int32Array(batch * seq).fill(options.padTokenId);
  const attentionMask = new Int32Array(batch * seq);
  const labels = new Int32Array(batch * seq).fill(IGNORE_INDEX);
  examples.forEach((example, b) => {
    const n = example.inputIds.length;
    if (example.labels.length !== n) throw new Error(`collate: example ${b} has ${n} input ids but ${example.labels.length} labels`);
    const offset = b * seq + (options.paddingSide === 'left' ? seq - n : 0);
    inputIds.set(example.inputIds, offset);
    labels.set(example.labels, offset);
    attentionMask.fill(1, offset, offset + n);
  });
  return { batch, seq, inputIds, attentionMask, labels };
}

/** Pad examples and make the batch's three int32 tensors; the caller owns (disposes) them. */
export function collate(examples: readonly EncodedExample[], options: CollateOptions): TokenBatch {
  const a = padExamples(examples, options);
  const shape: [number, number] = [a.batch, a.seq];
  return {
    inputIds: tf.tensor2d(a.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(a.attentionMask, shape, 'int32'),
    labels: tf.tensor2d(a.labels, shape, 'int32'),
  };
}

function isTokenBatch(batch: TokenBatch | UnlearnBatch): batch is TokenBatch {
  return 'inputIds' in batch;
}

/** Dispose every tensor of a TokenBatch or an UnlearnBatch (forget, retain and alternate parts). */
export function disposeBatch(batch: TokenBatch | UnlearnBatch): void {
  if (isTokenBatch(batch)) {
    tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
    return;
  }
  for (const part of [batch.forget, batch.retain, batch.alternate]) if (part !== undefined) disposeBatch(part);
}

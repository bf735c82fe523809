// A dataset's batches for one or more epochs: planned as index groups up front (cheap, reproducible), turned into
// tensors only when a step asks for one.
import type { TokenBatch } from '@unlearn/core';
import { collate, type PaddingSide } from './collate.js';
import type { EncodedExample } from './encode-qa.js';
import { paddingFraction, planBatches, type BatchPlanOptions } from './length-batching.js';
import { deriveSeed } from '@unlearn/random';

export interface TokenBatchesOptions extends Omit<BatchPlanOptions, 'seed'> {
  seed?: number;
  /** Passes over the data; each epoch has its own order (seed derived from seed and epoch). Default 1. */
  epochs?: number;
  padTokenId: number;
  paddingSide?: PaddingSide;
}

export interface TokenBatchPlan extends Iterable<TokenBatch> {
  /** Example indices of each batch, all epochs in order. */
  readonly indices: readonly (readonly number[])[];
  /** Share of padded token slots over the whole plan. */
  readonly paddingFraction: number;
  /** Batch `i` as new tensors (the caller disposes them, e.g. `disposeBatch(batch)`). */
  batch(i: number): TokenBatch;
}

/** Plan `epochs` passes of length-grouped, seeded batches over `examples`. */
export function planTokenBatches(examples: readonly EncodedExample[], options: TokenBatchesOptions): TokenBatchPlan {
  if (examples.length === 0) throw new Error('planTokenBatches: no examples');
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`planTokenBatches: epochs must be a positive integer, got ${epochs}`);
  const lengths = examples.map((e) => e.inputIds.length);
  const indices: number[][] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    indices.push(...planBatches(lengths, { ...options, seed: deriveSeed(options.seed ?? 0, 'epoch', epoch) }));
  }
  const collateOptions = { padTokenId: options.padTokenId, paddingSide: options.paddingSide };
  const batch = (i: number): TokenBatch => {
    if (!Number.isInteger(i) || i < 0 || i >= indices.length) throw new Error(`TokenBatchPlan.batch: index ${i} outside [0, ${indices.length})`);
    return collate(indices[i].map((k) => examples[k]), collateOptions);
  };
  return {
    indices,
    paddingFraction: paddingFraction(lengths, indices),
    batch,
    *[Symbol.iterator]() {
      for (let i = 0; i < indices.length; i++) yield batch(i);
    },
  };
}

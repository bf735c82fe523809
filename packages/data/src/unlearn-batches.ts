// Forget/retain pairing: every forget batch travels with a retain batch (GradDiff, KL, NPO+retain, … all read both),
// the retain set cycling — reshuffled on each pass — for as long as the forget epochs last; and, when given,
// the alternate answers (IdK refusals) to the very same forget questions.
import type { UnlearnBatch } from '@unlearn/core';
import { collate, type PaddingSide } from './collate.js';
import type { EncodedExample } from './encode-qa.js';
import { paddingFraction, planBatches } from './length-batching.js';
import { deriveSeed } from '@unlearn/random';

export interface UnlearnBatchesOptions {
  forget: readonly EncodedExample[];
  retain?: readonly EncodedExample[];
  /** Alternate answers to the forget questions, matched to forget examples by `row` (e.g. encodeQa of idkAlternates). */
  alternate?: readonly EncodedExample[];
  batchSize: number;
  /** Default: batchSize. */
  retainBatchSize?: number;
  /** Passes over the forget set (default 1); the retain set cycles independently. */
  epochs?: number;
  seed?: number;
  shuffle?: boolean;
  groupByLength?: boolean;
  padTokenId: number;
  paddingSide?: PaddingSide;
}

export interface UnlearnBatchPlan extends Iterable<UnlearnBatch> {
  readonly steps: number;
  /** Forget example indices per step. */
  readonly forgetIndices: readonly (readonly number[])[];
  /** Retain example indices per step (empty when there is no retain set). */
  readonly retainIndices: readonly (readonly number[])[];
  /** Padded share of token slots over the plan, per part. */
  readonly paddingFraction: { forget: number; retain?: number; alternate?: number };
  /** Step `i`'s batch as new tensors; the caller disposes them (`disposeBatch(batch)`). */
  batch(step: number): UnlearnBatch;
}

/** Plan the steps of an unlearning run: `epochs` passes over forget, each step paired with the next retain batch. */
export function planUnlearnBatches(options: UnlearnBatchesOptions): UnlearnBatchPlan {
  const { forget, retain, alternate, batchSize } = options;
  if (forget.length === 0) throw new Error('planUnlearnBatches: the forget set is empty');
  if (retain !== undefined && retain.length === 0) throw new Error('planUnlearnBatches: the retain set is empty');
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`planUnlearnBatches: epochs must be a positive integer, got ${epochs}`);
  const seed = options.seed ?? 0;
  const shared = { shuffle: options.shuffle, groupByLength: options.groupByLength };

  let alternateOf: EncodedExample[] | undefined;
  if (alternate !== undefined) {
    const byRow = new Map(alternate.map((e) => [e.row, e]));
    alternateOf = forget.map((e, i) => {
      const match = byRow.get(e.row);
      if (match === undefined) throw new Error(`planUnlearnBatches: forget example ${i} (row ${e.row}) has no alternate with the same row`);
      return match;
    });
  }

  const forgetLengths = forget.map((e) => e.inputIds.length);
  const forgetIndices: number[][] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    forgetIndices.push(...planBatches(forgetLengths, { ...shared, batchSize, seed: deriveSeed(seed, 'forget', epoch) }));
  }
  const steps = forgetIndices.length;

  const retainIndices: number[][] = [];
  let retainLengths: number[] = [];
  if (retain !== undefined) {
    retainLengths = retain.map((e) => e.inputIds.length);
    const retainBatchSize = options.retainBatchSize ?? batchSize;
    for (let pass = 0; retainIndices.length < steps; pass++) {
      retainIndices.push(...planBatches(retainLengths, { ...shared, batchSize: retainBatchSize, seed: deriveSeed(seed, 'retain', pass) }));
    }
    retainIndices.length = steps;
  }

  const padding: UnlearnBatchPlan['paddingFraction'] = { forget: paddingFraction(forgetLengths, forgetIndices) };
  if (retain !== undefined) padding.retain = paddingFraction(retainLengths, retainIndices);
  if (alternateOf !== undefined) padding.alternate = paddingFraction(alternateOf.map((e) => e.inputIds.length), forgetIndices);

  const collateOptions = { padTokenId: options.padTokenId, paddingSide: options.paddingSide };
  const batch = (step: number): UnlearnBatch => {
    if (!Number.isInteger(step) || step < 0 || step >= steps) throw new Error(`UnlearnBatchPlan.batch: step ${step} outside [0, ${steps})`);
    const result: UnlearnBatch = { forget: collate(forgetIndices[step].map((i) => forget[i]), collateOptions) };
    if (retain !== undefined) result.retain = collate(retainIndices[step].map((i) => retain[i]), collateOptions);
    if (alternateOf !== undefined) {
      const alternates = alternateOf;
      result.alternate = collate(forgetIndices[step].map((i) => alternates[i]), collateOptions);
    }
    return result;
  };
  return {
    steps,
    forgetIndices,
    retainIndices,
    paddingFraction: padding,
    batch,
    *[Symbol.iterator]() {
      for (let step = 0; step < steps; step++) yield batch(step);
    },
  };
}

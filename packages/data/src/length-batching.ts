// Which examples go in which batch. Grouping by length wastes little padding while keeping batches random: shuffle,
// cut into megabatches of `megabatchFactor × batchSize`, sort each megabatch by length, slice batches, shuffle the
// batch order — the scheme of Hugging Face's `get_length_grouped_indices` (LengthGroupedSampler), seeded here.
import { seededRandom } from '@unlearn/random';

export interface BatchPlanOptions {
  batchSize: number;
  /** Seed of the shuffle (default 0). Use `deriveSeed(seed, epoch)` for a new order each epoch. */
  seed?: number;
  /** Randomise which examples share a batch and the batch order (default true). */
  shuffle?: boolean;
  /** Put examples of similar length together (default true). Without shuffle: a global sort by length. */
  groupByLength?: boolean;
  /** Examples per sorted megabatch, in batches (default 50, as in transformers). */
  megabatchFactor?: number;
  /** Leave out the one batch smaller than batchSize, if any (default false). */
  dropLast?: boolean;
}

/** Index groups into `lengths`, one per batch. Every index appears once (unless dropLast drops a short batch). */
export function planBatches(lengths: readonly number[], options: BatchPlanOptions): number[][] {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`planBatches: batchSize must be a positive integer, got ${batchSize}`);
  const shuffle = options.shuffle ?? true;
  const groupByLength = options.groupByLength ?? true;
  const random = seededRandom(options.seed ?? 0);
  const longestFirst = (a: number, b: number): number => lengths[b] - lengths[a] || a - b;

  let order = lengths.map((_, i) => i);
  if (shuffle) order = random.shuffle(order);
  if (groupByLength) {
    const megabatch = shuffle ? batchSize * (options.megabatchFactor ?? 50) : order.length;
    const grouped: number[] = [];
    for (let start = 0; start < order.length; start += megabatch) grouped.push(...order.slice(start, start + megabatch).sort(longestFirst));
    order = grouped;
  }
  let batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  if (options.dropLast && batches.length > 0 && batches[batches.length - 1].length < batchSize) batches.pop();
  if (shuffle && groupByLength) batches = random.shuffle(batches);
  return batches;
}

/** Fraction of a planned epoch's token slots that are padding: Σ(batch × longest − Σ lengths) / Σ(batch × longest). */
export function paddingFraction(lengths: readonly number[], batches: readonly (readonly number[])[]): number {
  let slots = 0;
  let real = 0;
  for (const batch of batches) {
    let longest = 0;
    for (const i of batch) {
      longest = Math.max(longest, lengths[i]);
      real += lengths[i];
    }
    slots += longest * batch.length;
  }
  return slots === 0 ? 0 : (slots - real) / slots;
}

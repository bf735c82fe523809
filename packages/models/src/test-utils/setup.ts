// Shared by the tests: the backend under test and the paths of the data in ../shared.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const STORIES_DIR = path.resolve(repoRoot, '../shared/models/stories260K');
export const FIXTURES_DIR = path.resolve(repoRoot, 'packages/models/test/fixtures');

/** `UNLEARN_TEST_BACKEND` (default wasm). */
export async function useTestBackend(): Promise<string> {
  const name = (process.env.UNLEARN_TEST_BACKEND ?? 'wasm') as BackendName;
  await initBackend(name);
  return tf.getBackend();
}

/** Mean NLL of ids[t+1] under logits[t] for one row, in float64. */
export function meanNll(logits: Float32Array, vocab: number, ids: readonly number[]): number {
  let total = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    total += -(row[ids[t + 1]] - max - Math.log(sum));
  }
  return total / (ids.length - 1);
}

// The backend the tests run on: UNLEARN_TEST_BACKEND (default wasm, as in @unlearn/models' tests); and ../shared paths.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const STORIES_DIR = path.resolve(repoRoot, '../shared/models/stories260K');

export async function useTestBackend(): Promise<string> {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'wasm') as BackendName);
  return tf.getBackend();
}

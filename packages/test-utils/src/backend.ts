// The backend a backend-generic test suite runs on: UNLEARN_TEST_BACKEND, else the suite's default.
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { REPO_ROOT } from './readme-snippet.js';

export async function useTestBackend(fallback: BackendName = 'wasm'): Promise<string> {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? fallback) as BackendName);
  return tf.getBackend();
}

/** ../shared beside the checkout (read-only real data: TOFU, stories260K, corpora). */
export const SHARED_DIR = path.resolve(REPO_ROOT, '../shared');
export const STORIES260K_DIR = path.join(SHARED_DIR, 'models/stories260K');
export const TOFU_DIR = path.join(SHARED_DIR, 'data/tofu');

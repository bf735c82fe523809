// The backend the tests run on: UNLEARN_TEST_BACKEND (default wasm, as in @unlearn/models' tests).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';

export async function useTestBackend(): Promise<string> {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'wasm') as BackendName);
  return tf.getBackend();
}

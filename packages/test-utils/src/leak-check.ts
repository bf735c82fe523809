// The tensor-leak check every tfjs suite runs: each test must end with as many live tensors as it started with.
// Call once at the top level of a test file (vitest comes from the root devDependencies).
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { BackendName } from '@unlearn/tensors';
import { useTestBackend } from './backend.js';

/** Registers the suite's backend (UNLEARN_TEST_BACKEND, else `fallback`) and a per-test `tf.memory().numTensors` check. */
export function useLeakCheckedBackend(fallback: BackendName = 'wasm'): void {
  let before = 0;
  beforeAll(async () => {
    await useTestBackend(fallback);
  });
  beforeEach(() => {
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  });
}

// tf.addN on webgpu with more inputs than the device's storage-buffer limit: tfjs 4.22 builds an invalid pipeline and
// WebGPU silently drops the queued work. initBackend('webgpu') re-registers AddN to add in chunks (src/webgpu-addn.ts).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.js';

describe('webgpu AddN beyond the storage-buffer limit', () => {
  let forward: boolean | number;
  beforeAll(async () => {
    await initBackend('webgpu');
    forward = tf.env().get('WEBGPU_CPU_FORWARD') as boolean;
    tf.env().set('WEBGPU_CPU_FORWARD', false); // keep small tensors on the GPU, the path that broke
  });
  afterAll(() => tf.env().set('WEBGPU_CPU_FORWARD', forward));

  for (const n of [2, 7, 8, 9, 16, 23]) {
    it(`sums ${n} tensors exactly as JS does, then later kernels still run`, async () => {
      const before = tf.memory().numTensors;
      const values = Array.from({ length: n }, (_, i) => Float32Array.from({ length: 15 }, (_, j) => (i + 1) * 0.5 + j * 0.25 - 1));
      const expected = new Float64Array(15);
      for (const v of values) for (let j = 0; j < 15; j++) expected[j] += v[j];
      const inputs = values.map((v) => tf.tensor2d(v, [3, 5]));
      const sum = tf.addN(inputs);
      const after = tf.mul(sum, 2); // work queued after AddN is lost too when the pipeline is invalid
      const [got, doubled] = await Promise.all([sum.data(), after.data()]);
      for (let j = 0; j < 15; j++) {
        expect(got[j]).toBeCloseTo(expected[j], 4);
        expect(doubled[j]).toBeCloseTo(2 * expected[j], 4);
      }
      tf.dispose([...inputs, sum, after]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

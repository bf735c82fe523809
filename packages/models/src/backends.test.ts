// Differentiable on every backend the project targets: the PyTorch gradient check on cpu, wasm and webgpu
// (webgpu runs on Mesa llvmpipe where no GPU exists). Set UNLEARN_NO_WEBGPU=1 on machines without Mesa/Dawn.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { FIXTURES_DIR, useTestBackend } from './test-utils/setup.js';
import { expectGradientsMatchTorch } from './test-utils/golden.js';

const backends: BackendName[] = process.env.UNLEARN_NO_WEBGPU === '1' ? ['cpu', 'wasm'] : ['cpu', 'wasm', 'webgpu'];

describe.each(backends)('on %s', (backend) => {
  afterAll(useTestBackend);
  it.each(['gpt2-tiny', 'qwen2-tiny'])('%s: gradients of every parameter match PyTorch', async (name) => {
    await initBackend(backend);
    if (tf.getBackend() !== backend) throw new Error(`backend ${backend} did not activate`);
    await expectGradientsMatchTorch(path.join(FIXTURES_DIR, name));
  });
});

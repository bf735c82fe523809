// @unlearn/core's labels module (layer 0: it imports no backend) finds the fused UnlearnPickLogProb kernel by name in
// tfjs's registry: on native its token log-probs, masks and gradients must equal the composed logSoftmax + gather path
// (run on cpu, where no such kernel is registered), with IGNORE_INDEX labels in the batch, and the profile must show
// the fused kernel ran (and no composed log-softmax: no Exp kernel) on native and not on cpu.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX, meanNll, tokenLogProbs } from '@unlearn/core';
import '@unlearn/tensors';
import { FUSED_KERNEL_NAMES } from './index.js';
import { addonBuilt as built, useNativeBackend } from './test-utils/native-suite.js';
import { maxRelError, randn } from './test-utils/parity.js';

const [B, S, V] = [3, 7, 23];
const logitValues = randn(B * S * V, 31, 3);
// labels with ignored positions (prompt / padding) and every row's first label unused by the shift
const labelValues = Int32Array.from({ length: B * S }, (_, i) => (i % 5 === 2 || i >= B * S - 2 ? IGNORE_INDEX : (i * 11) % V));

async function run(backend: string) {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const logits = tf.tensor3d(logitValues, [B, S, V]);
  const labels = tf.tensor2d(labelValues, [B, S], 'int32');
  const weights = tf.tensor2d(randn(B * (S - 1), 32), [B, S - 1]);
  let values: Float32Array[] = [];
  const prof = await tf.profile(() => {
    const { logProbs, mask } = tokenLogProbs(logits, labels);
    const nll = meanNll(logits, labels);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tokenLogProbs(x as tf.Tensor3D, labels).logProbs, weights)))(logits);
    const nllGrad = tf.grad((x: tf.Tensor) => meanNll(x as tf.Tensor3D, labels))(logits);
    values = [logProbs, mask, nll, grad, nllGrad].map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>));
    tf.dispose([logProbs, mask, nll, grad, nllGrad]);
  });
  tf.dispose([logits, labels, weights]);
  expect(tf.memory().numTensors, `tensors leaked on ${backend}`).toBe(before);
  return { values, kernels: new Set(prof.kernels.map((k) => k.name)) };
}

describe.skipIf(!built)('core labels dispatch to the fused pick-log-prob kernel', () => {
  const suite = useNativeBackend();

  it('gives the composed path\'s log-probs, NLL and gradients, through the fused kernel on native only', async () => {
    const cpu = await run('cpu');
    expect(cpu.kernels.has(FUSED_KERNEL_NAMES.pickLogProb)).toBe(false);
    expect(cpu.kernels.has('Exp'), 'the composed log-softmax ran on cpu').toBe(true);
    expect(suite.isas().length).toBeGreaterThan(0);
    const native = await run('native');
    expect(native.kernels.has(FUSED_KERNEL_NAMES.pickLogProb), 'UnlearnPickLogProb ran').toBe(true);
    expect(native.kernels.has(FUSED_KERNEL_NAMES.pickLogProbGrad), 'UnlearnPickLogProbGrad ran').toBe(true);
    expect(native.kernels.has('Exp'), 'no composed log-softmax on native').toBe(false);
    const names = ['logProbs', 'mask', 'meanNll', 'd logProbs', 'd meanNll'];
    native.values.forEach((v, i) => {
      expect(v.length).toBe(cpu.values[i].length);
      expect(maxRelError(v, cpu.values[i]), `${names[i]} differs from the composed path`).toBeLessThan(1e-5);
    });
    // the ignored positions carry neither log-prob nor gradient
    const mask = native.values[1];
    expect(mask.some((m) => m === 0) && mask.some((m) => m === 1)).toBe(true);
    mask.forEach((m, i) => { if (m === 0) expect(Math.abs(native.values[0][i])).toBe(0); });
  });
});

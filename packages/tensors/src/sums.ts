// Sums of many tensors that are safe on every backend. Not tf.addN: tfjs-backend-webgpu 4.22 binds one storage
// buffer per AddN input and ignores the device's maxStorageBuffersPerShaderStage (8 by default), so an AddN of ≥ 8
// tensors compiles to an invalid pipeline and WebGPU silently drops the whole command batch (stale results, no error;
// see ./webgpu-addn.ts). No backend setup here: importable as `@unlearn/tensors/sums`.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/** Σ of scalar tensors as one scalar (0 for none): stack (whose concat splits its inputs to fit) + sum. Call inside a tidy. */
export function sumScalars(scalars: readonly Tensor[]): Tensor {
  return scalars.length === 0 ? tf.scalar(0) : tf.sum(tf.stack(scalars as Tensor[]));
}

/** Elementwise Σ of same-shape tensors, added left to right (as tfjs's own addN does on cpu). Call inside a tidy. */
export function addAll(tensors: readonly Tensor[]): Tensor {
  if (tensors.length === 0) throw new Error('addAll: no tensors to add');
  return tensors.slice(1).reduce((acc, t) => tf.add(acc, t), tensors[0]);
}

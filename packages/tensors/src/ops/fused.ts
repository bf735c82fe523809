// Whether the active backend implements a fused kernel (the native backend registers UnlearnRmsNorm, …); ops call it
// then, and compose tf ops otherwise.
import * as tf from '@tensorflow/tfjs-core';

export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

export function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
}

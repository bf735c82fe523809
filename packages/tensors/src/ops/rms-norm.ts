// RMSNorm (Zhang & Sennrich 2019): y = x / √(mean(x²) + ε) · w over the last axis. On a backend with the fused
// UnlearnRmsNorm kernel (native) forward and backward are one pass each (saving 1/√(mean(x²)+ε) per row); elsewhere
// the composed tf ops.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { hasKernel, runKernel } from './fused.js';

export const RMS_NORM_KERNEL = 'UnlearnRmsNorm';

export function rmsNorm<T extends Tensor>(x: T, weight: Tensor, eps: number): T {
  const d = x.shape[x.rank - 1];
  if (weight.rank !== 1 || weight.shape[0] !== d) throw new Error(`rmsNorm: weight shape [${weight.shape}] does not match x [${x.shape}] (expected [${d}])`);
  if (hasKernel(RMS_NORM_KERNEL) && x.dtype === 'float32') {
    return tf.tidy(() => (runKernel(RMS_NORM_KERNEL, { x, weight }, { eps }) as tf.Tensor[])[0] as T);
  }
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight) as T;
  });
}

// LayerNorm (Ba et al. 2016, eq. 4): y = (x − μ)/√(σ² + ε) · γ + β over the last axis (biased variance, as PyTorch's
// nn.LayerNorm). On a backend with the fused UnlearnLayerNorm kernel (native) forward and backward are one pass each
// (saving μ and 1/√(σ² + ε) per row); elsewhere the composed tf ops.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { hasKernel, runKernel } from './fused.js';

export const LAYER_NORM_KERNEL = 'UnlearnLayerNorm';

export function layerNorm<T extends Tensor>(x: T, gamma: Tensor, beta: Tensor, eps: number): T {
  const d = x.shape[x.rank - 1];
  for (const [t, what] of [[gamma, 'gamma'], [beta, 'beta']] as const) {
    if (t.rank !== 1 || t.shape[0] !== d) throw new Error(`layerNorm: ${what} shape [${t.shape}] does not match x [${x.shape}] (expected [${d}])`);
  }
  if (hasKernel(LAYER_NORM_KERNEL) && x.dtype === 'float32') {
    return tf.tidy(() => (runKernel(LAYER_NORM_KERNEL, { x, gamma, beta }, { eps }) as tf.Tensor[])[0] as T);
  }
  return tf.tidy(() => {
    const xc = tf.sub(x, tf.mean(x, -1, true));
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), gamma), beta) as T;
  });
}

// GELU in its tanh form (Hendrycks & Gimpel 2016, §2: x·½(1 + tanh(√(2/π)(x + 0.044715x³))); GPT-2's `gelu_new`,
// PyTorch's F.gelu(approximate='tanh')). On a backend with the fused UnlearnGeluTanh kernel (native) forward and
// backward are one pass each; elsewhere the composed tf ops.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { hasKernel, runKernel } from './fused.js';

export const GELU_KERNEL = 'UnlearnGeluTanh';

export function geluTanh<T extends Tensor>(x: T): T {
  if (hasKernel(GELU_KERNEL) && x.dtype === 'float32') return runKernel(GELU_KERNEL, { x }) as T;
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(
    tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI))))) as T);
}

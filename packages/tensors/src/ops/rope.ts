// Rotary position embedding with rotate-half (Su et al. 2021, RoFormer; the Hugging Face Llama convention):
// per head, y = x·cos + rotate_half(x)·sin with rotate_half(x) = cat(−x[d/2:], x[:d/2]). On a backend with the fused
// UnlearnRope kernel (native) forward and backward (the rotation by −θ) are one pass each; elsewhere tf ops —
// rotate_half as one 2-D matmul with `rotateHalf` when the caller passes that [d, d] matrix (transpose-free, what wasm
// runs fastest), else slices and a concat.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import { matmul } from '../matmul.js';
import { hasKernel, runKernel } from './fused.js';

export const ROPE_KERNEL = 'UnlearnRope';

/** x [rows, heads·d] (rows = tokens), cos and sin [rows, 1, d] or [rows, d] at each token's position. */
export function rope(x: Tensor2D, heads: number, cos: Tensor, sin: Tensor, rotateHalf?: Tensor2D): Tensor2D {
  const rows = x.shape[0];
  const d = x.shape[1] / heads;
  if (x.rank !== 2 || !Number.isInteger(d) || d % 2 !== 0) throw new Error(`rope: x [${x.shape}] is not [rows, ${heads} heads × even head_dim]`);
  if (cos.size !== rows * d || sin.size !== rows * d) throw new Error(`rope: cos [${cos.shape}] / sin [${sin.shape}] are not [${rows}, 1, ${d}]`);
  if (hasKernel(ROPE_KERNEL) && x.dtype === 'float32') return runKernel(ROPE_KERNEL, { x, cos, sin }, { heads }) as Tensor2D;
  return tf.tidy(() => {
    const perHead = tf.reshape(x, [rows, heads, d]);
    const c = tf.reshape(cos, [rows, 1, d]), s = tf.reshape(sin, [rows, 1, d]);
    const rotated = rotateHalf
      ? tf.reshape(matmul(tf.reshape(x, [rows * heads, d]) as Tensor2D, rotateHalf), [rows, heads, d])
      : tf.concat([tf.neg(tf.slice(perHead, [0, 0, d / 2], [rows, heads, d / 2])), tf.slice(perHead, [0, 0, 0], [rows, heads, d / 2])], 2);
    return tf.reshape(tf.add(tf.mul(perHead, c), tf.mul(rotated, s)), [rows, heads * d]) as Tensor2D;
  });
}

// Causal scaled dot-product attention (Vaswani et al. 2017, eq. 1) with grouped-query heads (Ainslie et al. 2023):
// o = softmax(scale·q·kᵀ + bias, keys j ≤ i + tk − tq)·v. On a backend with the fused UnlearnCausalAttention kernel
// (native) forward and backward follow FlashAttention-2 (Dao 2023): online softmax over key tiles, only O and the
// per-row logsumexp saved, P recomputed in the backward — no [tq, tk] scores tensor. Elsewhere the composed tf ops
// the models always ran: scaled q, one batched matmul per product (query heads sharing a key/value head folded into
// the query axis), the additive bias (or the causal mask) and tf.softmax.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import { matmul } from '../matmul.js';
import { hasKernel, runKernel } from './fused.js';

export const CAUSAL_ATTENTION_KERNEL = 'UnlearnCausalAttention';

export interface CausalAttentionOptions {
  /** Multiplies q·kᵀ; > 0 (usually 1/√d). */
  scale: number;
  /**
   * Additive bias [B, 1, tq, tk] (0 where a query may attend, very negative elsewhere: padding, windows), added after
   * scaling; keys after the query are masked whether or not it says so. Without it, the plain causal mask.
   */
  bias?: Tensor4D;
}

/** q [B, H, tq, d]; k, v [B, G, tk, d] with H a multiple of G and tk ≥ tq (the queries are the last tq positions). */
export function causalAttention(q: Tensor4D, k: Tensor4D, v: Tensor4D, options: CausalAttentionOptions): Tensor4D {
  const { scale, bias } = options;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw new Error(`causalAttention: q, k, v must be rank 4, got [${q.shape}], [${k.shape}], [${v.shape}]`);
  const [B, H, tq, d] = q.shape;
  const [, G, tk] = k.shape;
  if (!tf.util.arraysEqual(k.shape, v.shape) || k.shape[0] !== B || k.shape[3] !== d || G === 0 || H % G !== 0) {
    throw new Error(`causalAttention: q [${q.shape}] does not fit k [${k.shape}] / v [${v.shape}] (want [B,H,tq,d], [B,G,tk,d], H a multiple of G)`);
  }
  if (tk < tq) throw new Error(`causalAttention: fewer keys (${tk}) than queries (${tq})`);
  if (!(scale > 0)) throw new Error(`causalAttention: scale must be > 0, got ${scale}`);
  if (bias && !tf.util.arraysEqual(bias.shape, [B, 1, tq, tk])) throw new Error(`causalAttention: bias [${bias.shape}] must be [${[B, 1, tq, tk]}]`);
  const float = [q, k, v, ...(bias ? [bias] : [])].every((t) => t.dtype === 'float32');
  if (hasKernel(CAUSAL_ATTENTION_KERNEL) && float) {
    return tf.tidy(() => (runKernel(CAUSAL_ATTENTION_KERNEL, { q, k, v, bias: bias ?? tf.zeros([0]) }, { scale }) as tf.Tensor[])[0] as Tensor4D);
  }
  return tf.tidy(() => {
    const rep = H / G;
    const query = tf.reshape(tf.mul(q, scale), [B * G, rep * tq, d]);
    const scores = tf.reshape(matmul(query, tf.reshape(k, [B * G, tk, d]), false, true), [B, H, tq, tk]);
    const mask = bias ?? tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([tq, tk]), -1, tk - tq)), -1e9);
    const probs = tf.softmax(tf.add(scores, mask));
    return tf.reshape(matmul(tf.reshape(probs, [B * G, rep * tq, tk]), tf.reshape(v, [B * G, tk, d])), [B, H, tq, d]) as Tensor4D;
  });
}

// Objective-aware Gauss-Newton curvature (core `ObjectiveCurvature`). Every objective here is, at the current
// parameters, a weighted sum of per-position cross-entropies L ≈ Σ_t c_t·CE(z_t, y_t) (KL(p_ref‖p_θ) included: its
// Hessian in the logits is the same diag(p) − ppᵀ as a CE's), with outer weights c_t = ∂L/∂CE_t:
//   −NLL forget (GA, GradDiff, KL)   c_t = −γ/T_f                        (token mean over the forget answers)
//   NLL retain / alternate (IdK)     c_t = α/T_r, γ/T_alt
//   KL retain                        c_t = α/T_real                      (every real position, as klToReference)
//   NPO                              c_t = −γ·(2/n)·σ(β·r_i)             r_i = log π_θ(y_i|x_i) − log π_ref(y_i|x_i)
//   SimNPO                           c_t = −γ·(2/n)·σ(−β·m_i)/|y_i|      m_i = NLL_i/|y_i| − δ
//   IdkDPO                           c_t = ±γ·(2/n)·σ(−β·M_i)           M_i = r_w,i − r_l,i (alternate +, forget −)
// (n = rows of the batch, t ∈ row i). Its Gauss-Newton diagonal is Σ_t |c_t|·diag(J_tᵀ(diag p_t − p_t p_tᵀ)J_t): the
// outer function's own second derivative (the σ′ terms of NPO/DPO) is left out, as in every Gauss-Newton matrix, and
// |c_t| keeps the preconditioner positive where a term is ascended. Sophia's GNB (Liu et al. 2023, Alg. 2) samples it:
// ĝ = ∇ Σ_t √|c_t|·CE(z_t, ŷ_t), ŷ_t ~ softmax(z_t), gives E[ĝ⊙ĝ] = that diagonal (the cross terms vanish because
// E_ŷ[∇CE(z, ŷ)] = 0, independently per position). For plain NLL with c_t = 1/B this is the paper's ĥ = B·ĝ⊙ĝ.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { IGNORE_INDEX, type TokenBatch } from '@unlearn/core';

/** Positions an objective scores: their logits (differentiable, [N, V]) and |∂L/∂CE_t| ([N], constant, ≥ 0). */
export interface GaussNewtonTerm {
  logits: Tensor2D;
  weights: Tensor1D;
}

/** Draws ŷ_t ~ softmax(z_t) by inverse CDF, one independent uniform per row (tf.multinomial's cpu kernel re-seeds per row). */
function sampleLabels(logits: Tensor2D, seed: number): Tensor1D {
  return tf.tidy(() => {
    const [n, v] = logits.shape;
    const cdf = tf.cumsum(tf.softmax(logits), 1);
    const u = tf.randomUniform([n, 1], 0, 1, 'float32', seed);
    return tf.minimum(tf.sum(tf.cast(tf.less(cdf, u), 'int32'), 1), tf.scalar(v - 1, 'int32')) as Tensor1D;
  });
}

/**
 * Σ_t √w_t·CE(z_t, ŷ_t) with ŷ_t drawn from softmax(z_t) inside the op: its gradient is √w_t·(softmax(z_t) − onehot(ŷ_t))
 * in the logits and zero in the weights (tfjs has no stopGradient; the draw and the weights stay off the tape).
 */
const sampledCe = (seed: number) =>
  tf.customGrad(((x: Tensor, w: Tensor, save: tf.GradSaveFunc) => {
    const x2 = x as Tensor2D;
    const [n, v] = x2.shape;
    const y = sampleLabels(x2, seed);
    const value = tf.tidy(() => {
      const logp = tf.logSoftmax(x2);
      const picked = tf.gather(tf.reshape(logp, [n * v]), tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), y));
      return tf.neg(tf.sum(tf.mul(picked, tf.sqrt(w))));
    });
    save([x2, y, w]);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sy, sw] = saved;
        const coef = tf.reshape(tf.mul(tf.sqrt(sw), dy), [n, 1]);
        return [tf.mul(tf.sub(tf.softmax(sx), tf.oneHot(sy as Tensor1D, v)), coef), tf.zerosLike(sw)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Σ over terms of Σ_t √w_t·CE(z_t, ŷ_t), ŷ sampled from the model; term i draws with seed mix(seed, i). */
export function sampledGaussNewtonLoss(terms: readonly GaussNewtonTerm[], seed: number): Scalar {
  if (terms.length === 0) throw new Error('sampledGaussNewtonLoss: no terms');
  const parts = terms.map((t, i) => {
    if (t.logits.shape[0] !== t.weights.shape[0]) throw new Error(`sampledGaussNewtonLoss: term ${i} has ${t.logits.shape[0]} logit rows but ${t.weights.shape[0]} weights`);
    return sampledCe((seed + 7919 * i) >>> 0)(t.logits, t.weights) as Scalar;
  });
  return (parts.length === 1 ? parts[0] : tf.addN(parts)) as Scalar;
}

/** Logits at positions 0..s−2 (they predict labels 1..s−1) as [b·(s−1), V], and the 0/1 loss mask [b, s−1]. */
export function shiftedPositions(logits: Tensor3D, labels: Tensor2D): { logits: Tensor2D; mask: Tensor2D } {
  const [b, s, v] = logits.shape;
  const flat = tf.reshape(tf.slice(logits, [0, 0, 0], [b, s - 1, v]), [b * (s - 1), v]) as Tensor2D;
  const mask = tf.tidy(() => tf.cast(tf.notEqual(tf.slice(labels, [0, 1], [b, s - 1]), IGNORE_INDEX), 'float32') as Tensor2D);
  return { logits: flat, mask };
}

/** The term of a token-mean NLL (or −NLL) on `part`, scaled by `scale`: w_t = scale·mask_t / max(T, 1). */
export function tokenMeanTerm(logits: Tensor3D, part: TokenBatch, scale: number): GaussNewtonTerm {
  const pos = shiftedPositions(logits, part.labels);
  const weights = tf.tidy(() => tf.div(tf.reshape(tf.mul(pos.mask, scale), [-1]), tf.maximum(tf.sum(pos.mask), 1)) as Tensor1D);
  pos.mask.dispose();
  return { logits: pos.logits, weights };
}

/** The term of a per-row weighted sum of token CEs: w_t = |rowWeight_i| for t in row i (rowWeight [b], constant). */
export function rowWeightedTerm(logits: Tensor3D, part: TokenBatch, rowWeight: Tensor1D): GaussNewtonTerm {
  const pos = shiftedPositions(logits, part.labels);
  const weights = tf.tidy(() => tf.reshape(tf.mul(pos.mask, tf.reshape(tf.abs(rowWeight), [-1, 1])), [-1]) as Tensor1D);
  pos.mask.dispose();
  return { logits: pos.logits, weights };
}

/** The term of KL(p_ref‖p_θ) averaged over real positions (klToReference), scaled: every position, w = scale/T_real. */
export function klTerm(logits: Tensor3D, attentionMask: Tensor2D, scale: number): GaussNewtonTerm {
  const [b, s, v] = logits.shape;
  const weights = tf.tidy(() => {
    const m = tf.reshape(tf.cast(attentionMask, 'float32'), [-1]);
    return tf.div(tf.mul(m, scale), tf.maximum(tf.sum(m), 1)) as Tensor1D;
  });
  return { logits: tf.reshape(logits, [b * s, v]) as Tensor2D, weights };
}

/** `term` with its weights multiplied by `factor` (≥ 0). */
export function scaleTerm(term: GaussNewtonTerm, factor: number): GaussNewtonTerm {
  if (factor === 1) return term;
  const weights = tf.mul(term.weights, factor) as Tensor1D;
  term.weights.dispose();
  return { logits: term.logits, weights };
}

// Matrix product whose forward AND backward call only plain (non-transposed) matMul with explicit transposes.
// Why: tfjs-backend-wasm runs XNNPACK only for non-transposed 2-D inputs; transposeA/B falls to a scalar loop
// 10–50× slower, and tf.matMul's own gradient uses exactly those transposed forms (measured 6.5× faster train step,
// ../shared/reference/README.md).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

const swapLast = (x: Tensor): Tensor => (x.rank === 2 ? tf.transpose(x) : tf.transpose(x, [0, 2, 1]));

/** Backends whose matMul with transpose flags is slow (wasm: XNNPACK only for plain 2-D inputs). */
const EXPLICIT_TRANSPOSE_BACKENDS = new Set(['wasm']);

type MatmulFn = (a: Tensor, b: Tensor) => Tensor;
const variants = new Map<string, MatmulFn>();

function variant(transposeA: boolean, transposeB: boolean): MatmulFn {
  const key = `${transposeA}${transposeB}`;
  let f = variants.get(key);
  if (!f) {
    f = tf.customGrad(((a: Tensor, b: Tensor, save: tf.GradSaveFunc) => {
      save([a, b]);
      const A = transposeA ? swapLast(a) : a;
      const B = transposeB ? swapLast(b) : b;
      return {
        value: tf.matMul(A, B),
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [sa, sb] = saved as [Tensor, Tensor];
          const A2 = transposeA ? swapLast(sa) : sa;
          const B2 = transposeB ? swapLast(sb) : sb; // C = A2 · B2
          const da = transposeA ? tf.matMul(B2, swapLast(dy)) : tf.matMul(dy, swapLast(B2));
          const db = transposeB ? tf.matMul(swapLast(dy), A2) : tf.matMul(swapLast(A2), dy);
          return [da, db];
        },
      };
    }) as unknown as (...args: (Tensor | tf.GradSaveFunc)[]) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor[] }) as unknown as MatmulFn;
    variants.set(key, f);
  }
  return f;
}

/**
 * `a · b` where `b` is a frozen weight (a non-trainable tf.Variable): `b` is closed over instead of being an input of the
 * customGrad, so the backward computes only ∂/∂a. A customGrad computes every input's gradient eagerly, so passing a
 * frozen weight as an input would cost a dW = dyᵀ·x matmul per layer that nothing uses (LoRA, norm-only training).
 */
function frozenRight(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const f = tf.customGrad(((x: Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    const A = transposeA ? swapLast(x) : x;
    const B = transposeB ? swapLast(b) : b;
    return {
      value: tf.matMul(A, B),
      gradFunc: (dy: Tensor) => {
        const B2 = transposeB ? swapLast(b) : b;
        return [transposeA ? tf.matMul(B2, swapLast(dy)) : tf.matMul(dy, swapLast(B2))];
      },
    };
  }) as unknown as (...args: (Tensor | tf.GradSaveFunc)[]) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor[] });
  return (f as unknown as (x: Tensor) => Tensor)(a);
}

const isFrozen = (t: Tensor) => t instanceof tf.Variable && !t.trainable;

/**
 * `a · b` (with optional transposes) for rank-2 or equal-batch rank-3 inputs, differentiable in both.
 * For [.., n, k] · [k, m] with a rank-3 `a`, reshape to 2-D first: broadcast rank-3×rank-2 gradients throw in tfjs.
 */
export function matmul<T extends Tensor>(a: T, b: Tensor, transposeA = false, transposeB = false): T {
  if (a.rank !== b.rank || (a.rank !== 2 && a.rank !== 3)) {
    throw new Error(`matmul: expected two rank-2 or two rank-3 tensors, got shapes [${a.shape}] and [${b.shape}]`);
  }
  if (a.rank === 3 && a.shape[0] !== b.shape[0]) {
    throw new Error(`matmul: batch sizes differ: [${a.shape}] and [${b.shape}]`);
  }
  const k1 = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const k2 = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  if (k1 !== k2) throw new Error(`matmul: inner dimensions differ (${k1} vs ${k2}) for [${a.shape}] and [${b.shape}]`);
  // Only wasm needs the explicit transposes; backends whose kernels fold transposes into the product (native packs
  // them, webgpu/cpu index them) are faster with tfjs's own matMul and gradient — native 1-thread train step
  // 0.40–0.52 s → 0.25–0.27 s (bench/speed-native).
  // (tf.matMul's own gradient is lazy per input: the tape never asks for a frozen weight's gradient)
  if (!EXPLICIT_TRANSPOSE_BACKENDS.has(tf.getBackend())) return tf.matMul(a, b, transposeA, transposeB) as T;
  if (isFrozen(b) && !isFrozen(a)) return frozenRight(a, b, transposeA, transposeB) as T;
  return variant(transposeA, transposeB)(a, b) as T;
}

/** `x · wᵀ` for x [..., in] and a PyTorch-layout weight w [out, in] (nn.Linear), plus optional bias [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const inDim = x.shape[x.rank - 1];
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, inDim]);
  let y = matmul(x2, weight, false, true);
  if (bias) y = tf.add(y, bias);
  return x.rank === 2 ? y : tf.reshape(y, [...lead, weight.shape[0]]);
}

// Arithmetic on name-keyed tensor maps (parameters, gradients, optimizer state): what optimizers, influence
// unlearning (conjugate gradient on HVPs) and clipping are written in. Every function returns NEW tensors the caller
// owns (dispose them with disposeMap) and leaks no intermediate: each entry is computed inside tf.tidy.
// Two maps combined must hold the same names with the same shapes; a mismatch throws one line listing the names.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';

/** Name → tensor; the same shape as @unlearn/core's TensorMap (not imported: core depends on this package). */
export type TensorMap = Map<string, Tensor>;
/** Any name → tensor map: a ParamMap (tf.Variables) or a TensorMap. */
export type AnyTensorMap = ReadonlyMap<string, Tensor>;

const MAX_LISTED = 8;
const list = (names: string[]): string =>
  names.length <= MAX_LISTED ? names.join(', ') : `${names.slice(0, MAX_LISTED).join(', ')}, … (${names.length} in all)`;

/** Throws unless `a` and `b` hold the same names with the same shapes. */
export function assertSameNames(op: string, a: AnyTensorMap, b: AnyTensorMap): void {
  const onlyA = [...a.keys()].filter((k) => !b.has(k));
  const onlyB = [...b.keys()].filter((k) => !a.has(k));
  if (onlyA.length || onlyB.length) {
    const parts = [];
    if (onlyA.length) parts.push(`only in the first: ${list(onlyA)}`);
    if (onlyB.length) parts.push(`only in the second: ${list(onlyB)}`);
    throw new Error(`${op}: tensor maps hold different names (${parts.join('; ')})`);
  }
  for (const [name, t] of a) {
    const u = b.get(name)!;
    if (!tf.util.arraysEqual(t.shape, u.shape)) {
      throw new Error(`${op}: "${name}" has shape [${t.shape}] in the first map but [${u.shape}] in the second`);
    }
  }
}

/** fn(tensor, name) for every entry, each inside tf.tidy. A result that is the input itself is cloned, so the
 *  returned map always owns its tensors. */
export function mapTensors(m: AnyTensorMap, fn: (t: Tensor, name: string) => Tensor): TensorMap {
  const out: TensorMap = new Map();
  try {
    for (const [name, t] of m) {
      out.set(name, tf.tidy(() => {
        const r = fn(t, name);
        return r === t ? tf.clone(t) : r;
      }));
    }
  } catch (e) {
    disposeMap(out);
    throw e;
  }
  return out;
}

/** fn(a[name], b[name], name) for every name of two maps with the same names and shapes. */
export function zipTensors(op: string, a: AnyTensorMap, b: AnyTensorMap, fn: (x: Tensor, y: Tensor, name: string) => Tensor): TensorMap {
  assertSameNames(op, a, b);
  return mapTensors(a, (x, name) => fn(x, b.get(name)!, name));
}

/** a + b */
export function add(a: AnyTensorMap, b: AnyTensorMap): TensorMap {
  return zipTensors('add', a, b, (x, y) => tf.add(x, y));
}

/** a − b */
export function sub(a: AnyTensorMap, b: AnyTensorMap): TensorMap {
  return zipTensors('sub', a, b, (x, y) => tf.sub(x, y));
}

/** s · a */
export function scale(a: AnyTensorMap, s: number): TensorMap {
  return mapTensors(a, (x) => tf.mul(x, s));
}

/** y + alpha · x (BLAS axpy). */
export function axpy(y: AnyTensorMap, alpha: number, x: AnyTensorMap): TensorMap {
  return zipTensors('axpy', y, x, (yi, xi) => tf.add(yi, tf.mul(xi, alpha)));
}

/** Σ over names of Σ a[name] ⊙ b[name]: the inner product of the two maps seen as one flat vector. */
export function dot(a: AnyTensorMap, b: AnyTensorMap): Scalar {
  assertSameNames('dot', a, b);
  return tf.tidy(() => {
    let total: Tensor = tf.scalar(0);
    for (const [name, x] of a) total = tf.add(total, tf.sum(tf.mul(x, b.get(name)!)));
    return total as Scalar;
  });
}

/** √(Σ over names of ‖a[name]‖²): the L2 norm of the whole map, as used for global gradient-norm clipping. */
export function globalNorm(a: AnyTensorMap): Scalar {
  return tf.tidy(() => {
    let total: Tensor = tf.scalar(0);
    for (const x of a.values()) total = tf.add(total, tf.sum(tf.square(x)));
    return tf.sqrt(total) as Scalar;
  });
}

/** Zeros with the shapes and dtypes of `a`. */
export function zerosLike(a: AnyTensorMap): TensorMap {
  return mapTensors(a, (x) => tf.zerosLike(x));
}

/** Independent copies (a Variable's copy is a plain tensor holding its current value). */
export function clone(a: AnyTensorMap): TensorMap {
  return mapTensors(a, (x) => tf.clone(x));
}

/** Disposes every tensor of the map and empties it. */
export function disposeMap(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
  m.clear();
}

// Conjugate gradient (Hestenes & Stiefel 1952) for (H + λI) x = v, where H is available only through Hessian-vector
// products (here finite differences of first-order gradients). Starts at x = 0; stops when ‖r‖ ≤ tol·‖v‖, after
// `maxIterations`, or on non-positive curvature pᵀ(H+λI)p ≤ 0 (returning the iterate so far), as truncated-Newton
// methods do. The scalars of the recurrence (‖v‖, pᵀ(H+λI)p, ‖r‖²) come back with `await t.data()`, one download each.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorMap } from '@unlearn/core';
import { sumScalars } from './scalar-sum.js';

export interface CgResult {
  x: TensorMap;
  iterations: number;
  /** ‖v − (H+λI)x‖ / ‖v‖ from the CG recurrence. */
  relativeResidual: number;
  /** True when a direction of non-positive curvature stopped the solve. */
  negativeCurvature: boolean;
}

const combine = (a: TensorMap, b: TensorMap, alpha: number): TensorMap =>
  new Map([...a].map(([name, x]) => [name, tf.tidy(() => tf.add(x, tf.mul(b.get(name)!, alpha)))]));
const disposeMap = (m: TensorMap) => tf.dispose([...m.values()]);
/** Runs `f` in a tidy scope and downloads its scalar result asynchronously (no dataSync: WebGPU in Node has none). */
async function readScalar(f: () => tf.Tensor): Promise<number> {
  const t = tf.tidy(f);
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}
const sqNorm = (m: TensorMap) => readScalar(() => sumScalars([...m.values()].map((x) => tf.sum(tf.square(x)))));

/** Solves (H + λI)x = v given `hvp(p)` = H·p (synchronous or not); the caller disposes `x`. */
export async function conjugateGradient(
  hvp: (p: TensorMap) => TensorMap | Promise<TensorMap>, v: TensorMap, damping: number, maxIterations: number, tolerance: number,
): Promise<CgResult> {
  let x: TensorMap = new Map([...v].map(([name, t]) => [name, tf.zerosLike(t)]));
  let r: TensorMap = new Map([...v].map(([name, t]) => [name, tf.clone(t)]));
  let p: TensorMap = new Map([...v].map(([name, t]) => [name, tf.clone(t)]));
  let solved = false;
  try {
    const vNorm = Math.sqrt(await sqNorm(v));
    let rr = vNorm * vNorm;
    let iterations = 0;
    let negativeCurvature = false;
    while (iterations < maxIterations && Math.sqrt(rr) > tolerance * vNorm && vNorm > 0) {
      const hp = await hvp(p);
      const apDamped = combine(hp, p, damping); // (H + λI)p
      disposeMap(hp);
      let pAp: number;
      try {
        pAp = await readScalar(() => sumScalars([...p].map(([name, t]) => tf.sum(tf.mul(t, apDamped.get(name)!)))));
      } catch (e) {
        disposeMap(apDamped);
        throw e;
      }
      if (!(pAp > 0)) {
        negativeCurvature = true;
        disposeMap(apDamped);
        break;
      }
      const alpha = rr / pAp;
      const x1 = combine(x, p, alpha);
      const r1 = combine(r, apDamped, -alpha);
      disposeMap(apDamped);
      disposeMap(x);
      disposeMap(r);
      x = x1;
      r = r1;
      const rr1 = await sqNorm(r);
      const p1 = combine(r, p, rr1 / rr);
      disposeMap(p);
      p = p1;
      rr = rr1;
      iterations++;
    }
    solved = true;
    return { x, iterations, relativeResidual: vNorm > 0 ? Math.sqrt(rr) / vNorm : 0, negativeCurvature };
  } finally {
    disposeMap(r);
    disposeMap(p);
    if (!solved) disposeMap(x);
  }
}

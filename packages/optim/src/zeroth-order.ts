// Zeroth-order gradient estimation, MeZO style (Malladi et al. 2023, "Fine-Tuning Language Models with Just Forward
// Passes", Alg. 1; n-SPSA with q queries): for queries i = 1..q with seeds sᵢ,
//   zᵢ ~ N(0, I) regenerated from sᵢ (never stored), zeroed on masked-out entries
//   pᵢ = (ℓ(θ + μzᵢ) − ℓ(θ − μzᵢ)) / 2μ                    (two forward passes, no gradient tape)
//   ĝ = (1/q) Σ pᵢ zᵢ,   E[ĝ] = ∇ℓ + O(μ²),   Var ∝ 1/q.
// Parameters are moved in place as MeZO does (θ += μz, θ −= 2μz, θ += μz, one parameter at a time, z regenerated from
// its seed each time): no second copy of θ is kept, so the step's memory is the weights plus one parameter-sized
// scratch. θ comes back to within fp32 round-off of where it was (a few ulp of μ|z| per entry), as in MeZO. The 2q
// losses are evaluated as tensors (ctx.probe.loss()) and read back together in ONE asynchronous download after θ is
// restored: no dataSync (WebGPU in Node has none), one GPU sync per step instead of 2q, and θ is never left perturbed
// across an await.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import type { CurvatureProbe, Mask, ParamMap, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { tfjsSeed } from '@unlearn/random';
import { mix32, positive } from './options.js';
import { maskOf } from './param-state.js';
import { addAll } from './scalar-sum.js';

export const zerothOrderOptions = {
  /** q: two-point queries per step. */
  queries: z.number().int().positive().default(1),
  /** μ: perturbation scale. */
  mu: positive.default(1e-3),
};

/** The parameters a zeroth-order step perturbs, with their masks (masked-out-entirely ones are skipped). */
export function perturbable(owner: string, params: ParamMap, mask: Mask | undefined): Map<string, Tensor | undefined> {
  const out = new Map<string, Tensor | undefined>();
  for (const [name, p] of params) {
    if (!p.trainable) continue;
    const m = maskOf(owner, mask, name, p.shape);
    if (m !== null) out.set(name, m);
  }
  return out;
}

/** zᵢ for one parameter: deterministic in (query seed, parameter index); zero where the mask is 0. */
export function direction(shape: number[], querySeed: number, paramIndex: number, mask: Tensor | undefined): Tensor {
  return tf.tidy(() => {
    const zt = tf.randomNormal(shape, 0, 1, 'float32', tfjsSeed(querySeed, paramIndex));
    return mask ? tf.mul(zt, mask) : zt;
  });
}

export interface Projections {
  /** Seeds of the q queries. */
  seeds: number[];
  /** pᵢ = (ℓ₊ − ℓ₋)/2μ. */
  projected: number[];
  /** Mean of (ℓ₊ + ℓ₋)/2 over the queries: the loss estimate at θ. */
  loss: number;
}
// With `restore = false` θ is returned at θ₀ − μ·z(last seed): the caller adds μ·z(last seed) back as part of its update.

/** θ ← θ + scale·z(querySeed) in place, one parameter at a time (the old buffer is freed as the new one is written). */
export function shiftAlong(params: ParamMap, live: Map<string, Tensor | undefined>, querySeed: number, scale: number): void {
  [...live.keys()].forEach((name, j) => {
    const p = params.get(name)!;
    tf.tidy(() => p.assign(tf.add(p, tf.mul(direction(p.shape, querySeed, j, live.get(name)), scale))));
  });
}

/** Evaluates the q two-point projections at the current θ (2q forward passes, one download), perturbing θ in place. */
export async function projections(
  params: ParamMap, live: Map<string, Tensor | undefined>, probe: CurvatureProbe, queries: number, mu: number, seed: number, restore = true,
): Promise<Projections> {
  const seeds: number[] = [];
  const losses: Scalar[] = []; // ℓ₊, ℓ₋ of each query, in order
  let packed: Tensor;
  let offset = 0; // θ is at θ₀ + offset·μ·z(current seed)
  let current = 0;
  try {
    for (let i = 0; i < queries; i++) {
      current = mix32(seed, i);
      shiftAlong(params, live, current, mu);
      offset = 1;
      losses.push(probe.loss());
      shiftAlong(params, live, current, -2 * mu);
      offset = -1;
      losses.push(probe.loss());
      seeds.push(current);
      if (!restore && i === queries - 1) break; // the caller folds the last +μz into its update (one z pass fewer)
      shiftAlong(params, live, current, mu);
      offset = 0;
    }
    packed = tf.stack(losses);
    offset = 0;
  } finally {
    if (offset !== 0) shiftAlong(params, live, current, -offset * mu); // a failed forward leaves θ where it was
    tf.dispose(losses);
  }
  let values: Float32Array | Int32Array | Uint8Array;
  try {
    values = await packed.data();
  } finally {
    packed.dispose();
  }
  const projected: number[] = [];
  let lossSum = 0;
  for (let i = 0; i < queries; i++) {
    const plus = values[2 * i], minus = values[2 * i + 1];
    projected.push((plus - minus) / (2 * mu));
    lossSum += (plus + minus) / 2;
  }
  return { seeds, projected, loss: lossSum / queries };
}

/**
 * When a step's two-point losses (or the projections made from them) are not all finite: θ is brought back from
 * θ₀ − μ·z_q (what `projections(…, restore = false)` leaves) WITHOUT any update, and the stats the step returns carry a
 * non-finite `loss` the Trainer stops on ("stopped before updating the parameters"); the optimizer state is untouched.
 * Returns null when every value is finite and the update may be applied.
 */
export function nonFiniteStep(params: ParamMap, live: Map<string, Tensor | undefined>, pr: Projections, mu: number, lr: number): StepStats | null {
  if (Number.isFinite(pr.loss) && pr.projected.every(Number.isFinite)) return null;
  const last = pr.seeds[pr.seeds.length - 1];
  [...live].forEach(([name, m], j) => {
    const p = params.get(name)!;
    tf.tidy(() => p.assign(tf.add(p, tf.mul(direction(p.shape, last, j, m), mu))));
  });
  return { lr, loss: Number.isFinite(pr.loss) ? Number.NaN : pr.loss, nonFinite: 1 };
}

/** ĝ = (1/q) Σ pᵢ zᵢ for one parameter (index j of `live`), regenerated from the seeds. The caller disposes it. */
export function gradientOf(p: Tensor, j: number, mask: Tensor | undefined, pr: Projections): Tensor {
  return tf.tidy(() => addAll(pr.seeds.map((s, i) => tf.mul(direction(p.shape, s, j, mask), pr.projected[i] / pr.seeds.length))));
}

/**
 * For a parameter left at θ₀ − μ·z_q by `projections(…, restore = false)`: θ₀ and ĝ = (1/q) Σ pᵢ zᵢ from ONE draw of each
 * zᵢ (the restore and the estimate share z_q). Call inside tf.tidy.
 */
export function restoredAndGradient(p: Tensor, j: number, mask: Tensor | undefined, pr: Projections, mu: number): { theta: Tensor; g: Tensor } {
  const zs = pr.seeds.map((s) => direction(p.shape, s, j, mask));
  const g = addAll(zs.map((z, i) => tf.mul(z, pr.projected[i] / pr.seeds.length)));
  return { theta: tf.add(p, tf.mul(zs[zs.length - 1], mu)), g };
}

/** ĝ = (1/q) Σ pᵢ zᵢ for every perturbable parameter (directions regenerated from their seeds). The caller disposes it. */
export function gradientFromProjections(params: ParamMap, live: Map<string, Tensor | undefined>, pr: Projections): TensorMap {
  const out: TensorMap = new Map();
  [...live.keys()].forEach((name, j) => {
    const p = params.get(name)!;
    out.set(name, tf.tidy(() => {
      const terms = pr.seeds.map((s, i) => tf.mul(direction(p.shape, s, j, live.get(name)), pr.projected[i] / pr.seeds.length));
      return addAll(terms);
    }));
  });
  return out;
}

/** The zeroth-order gradient estimate and loss at the current parameters (for tests and custom optimizers). */
export async function zerothOrderGradient(params: ParamMap, probe: CurvatureProbe, options: { queries?: number; mu?: number; seed: number; mask?: Mask }): Promise<{ grads: TensorMap; loss: number }> {
  const live = perturbable('zerothOrderGradient', params, options.mask);
  const pr = await projections(params, live, probe, options.queries ?? 1, options.mu ?? 1e-3, options.seed);
  return { grads: gradientFromProjections(params, live, pr), loss: pr.loss };
}

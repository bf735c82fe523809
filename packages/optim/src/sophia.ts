// Sophia: Second-order Clipped Stochastic Optimization (Liu, Li, Hall, Liang & Ma 2023, arXiv:2305.14342, Alg. 3),
// the optimizer SOUL (Jia et al. 2024) runs on unlearning objectives. Per parameter, with t counting steps from 1:
//   m ← β1·m + (1−β1)·g
//   if (t−1) mod k = 0:  h ← β2·h + (1−β2)·ĥ                      (ĥ a diagonal-Hessian estimate, below)
//   θ ← θ·(1 − ηλ) − η·clip(m / max(ρ·h, ε), −1, 1)                 (decay on rank ≥ 2 parameters)
// Estimators ĥ:
//   gnb         Gauss-Newton-Bartlett (paper Alg. 2): ĥ = B·ĝ⊙ĝ, ĝ the gradient of the mean CE against labels
//               sampled from the model itself (ctx.probe.sampledLabelGrads), B = loss-bearing tokens of the batch.
//   fisher      ĥ = B·g⊙g of the step's own gradient, every step (k = 1): what OPTML-Group/SOUL's SophiaG runs
//               (update_hessian() on the loss gradient inside step()). A COMPATIBILITY mode, not the paper's GNB.
//   hutchinson  ĥ = u⊙(Hu), u Rademacher, Hu by finite differences (ctx.probe.hessianVectorProduct) — the paper's
//               Alg. 1 with a first-order HVP, since tfjs has no double backprop.
// Differences from the official code (Liuhong99/Sophia sophia.py + train_sophiag.py), all deliberate:
//  - it keeps h = EMA(ĝ⊙ĝ) and divides by ρ·bs·h with a constant bs; we keep h = EMA(ĥ) with ĥ = B·ĝ⊙ĝ as in the paper
//    (identical when B is constant) so that gnb/fisher/hutchinson share one h; B is the step's token count unless
//    `batchSize` fixes it (SOUL's code never passes bs, so it uses the default 5120).
//  - it clips |m|/(ρ·bs·h + 1e-15) at 1; we use clip(m / max(ρh, ε)) as the paper does (same away from h ≈ 0).
//  - it refreshes h AFTER the update of every k-th step; we refresh BEFORE the update of steps 1, k+1, … (paper order),
//    so the first step already has curvature.
//  - SOUL's SophiaG updates m twice per step (update_exp_avg() and again in the update), i.e. m ← β1²m + (1−β1²)g:
//    pass betas [β1², β2] to reproduce a SOUL run exactly; we update once.
// `winRate` (train_sophiag.py's win_rate): the fraction of unmasked entries whose update is NOT clipped (|m| < ρh).
// Host reads are asynchronous (step() returns a Promise; WebGPU in Node has no synchronous readback): per step, B (the
// probe's token count, when no `batchSize` is fixed) and the win rate — two small downloads, the update itself none.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { CurvatureProbe, Mask, Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { betas, lr, mix32, nonnegative, parseOptions, positive, stepSeed } from './options.js';
import { keepFrozen, maskOf, ParamState } from './param-state.js';
import { sumScalars } from './scalar-sum.js';

/** What an estimator sees: the parameters being updated, their gradients, the step's probe and randomness. */
export interface HessianEstimatorInput {
  params: ParamMap;
  grads: TensorMap;
  probe: CurvatureProbe;
  mask?: Mask;
  seed: number;
  /** Sophia's B. */
  batchSize: number;
}

/** Returns ĥ, a diagonal-Hessian estimate for (at least) every parameter of `grads`, or a Promise of it; the caller disposes it. */
export type HessianEstimator = (input: HessianEstimatorInput) => TensorMap | Promise<TensorMap>;

/** GNB (Sophia Alg. 2): ĥ = B·ĝ⊙ĝ with ĝ from labels sampled from the model. */
export const gnbEstimator: HessianEstimator = ({ probe, seed, batchSize, grads }) => {
  const sampled = probe.sampledLabelGrads(seed);
  const out: TensorMap = new Map();
  for (const [name, g] of sampled) {
    if (grads.has(name)) out.set(name, tf.tidy(() => tf.mul(tf.square(g), batchSize)));
    g.dispose();
  }
  return out;
};

/** Empirical-Fisher diagonal of the step's own gradient, ĥ = B·g⊙g (SOUL's code). */
export const fisherEstimator: HessianEstimator = ({ grads, batchSize }) =>
  new Map([...grads].map(([name, g]) => [name, tf.tidy(() => tf.mul(tf.square(g), batchSize))]));

/** A ±1 direction, deterministic in `seed`. */
export function rademacher(shape: number[], seed: number): Tensor {
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed), 0.5), 'float32'), 2), 1));
}

/**
 * Hutchinson (Sophia Alg. 1): ĥ = u⊙(Hu). `direction` draws u per parameter (default Rademacher); u is zero on
 * masked-out entries, which leaves the estimate unbiased on the others and spends no variance on frozen ones.
 */
export function hutchinsonEstimator(direction: (name: string, shape: number[], seed: number) => Tensor = (_n, shape, seed) => rademacher(shape, seed)): HessianEstimator {
  return async ({ grads, params, probe, mask, seed }) => {
    const u: TensorMap = new Map();
    let i = 0;
    for (const name of grads.keys()) {
      const p = params.get(name)!;
      const raw = direction(name, p.shape, mix32(seed, i++));
      const m = mask?.get(name);
      u.set(name, m ? tf.tidy(() => tf.mul(raw, m)) : raw);
      if (m) raw.dispose();
    }
    let hu: TensorMap;
    try {
      hu = await probe.hessianVectorProduct(u);
    } catch (e) {
      tf.dispose([...u.values()]);
      throw e;
    }
    const out: TensorMap = new Map();
    for (const [name, d] of u) out.set(name, tf.tidy(() => tf.mul(d, hu.get(name)!)));
    tf.dispose([...u.values(), ...hu.values()]);
    return out;
  };
}

export const sophiaOptions = z
  .object({
    lr: lr.default(1e-4),
    betas: betas.default([0.965, 0.99]),
    rho: positive.default(0.04),
    weightDecay: nonnegative.default(0.1),
    /** Refresh h every k steps (default 10; 1 for `fisher`). */
    k: z.number().int().positive().optional(),
    estimator: z.union([z.enum(['gnb', 'fisher', 'hutchinson']), z.custom<HessianEstimator>((v) => typeof v === 'function', 'expected "gnb", "fisher", "hutchinson" or a function')]).default('gnb'),
    eps: positive.default(1e-12),
    /** Fix Sophia's B instead of using the step's loss-bearing token count. */
    batchSize: positive.optional(),
  })
  .strict();
export type SophiaOptions = z.input<typeof sophiaOptions>;

const ESTIMATORS: Record<'gnb' | 'fisher' | 'hutchinson', HessianEstimator> = { gnb: gnbEstimator, fisher: fisherEstimator, hutchinson: hutchinsonEstimator() };

export function sophia(options: SophiaOptions = {}): Optimizer {
  const o = parseOptions('sophia', sophiaOptions, options);
  const estimatorName = typeof o.estimator === 'string' ? o.estimator : 'custom';
  const estimate = typeof o.estimator === 'string' ? ESTIMATORS[o.estimator] : o.estimator;
  const k = o.k ?? (o.estimator === 'fisher' ? 1 : 10);
  const [b1, b2] = o.betas;
  const state = new ParamState('sophia', ['exp_avg', 'hessian']);
  return {
    name: 'sophia',
    specificationVersion: 'v1',
    async step(params: ParamMap, grads: TensorMap, ctx: StepContext): Promise<StepStats> {
      const eta = ctx.lr ?? o.lr;
      const t = state.counter('step') + 1;
      // the parameters this step may change, with their masks
      const live = new Map<string, Tensor | undefined>();
      for (const [name, p] of params) {
        const m = maskOf('sophia', ctx.mask, name, p.shape);
        if (grads.has(name) && m !== null) live.set(name, m);
      }
      let hHat: TensorMap | undefined;
      if ((t - 1) % k === 0) {
        const needsProbe = estimatorName !== 'fisher';
        if (needsProbe && !ctx.probe) throw new Error(`sophia: the ${estimatorName} estimator needs ctx.probe (run it through the Trainer or pass a CurvatureProbe)`);
        const liveGrads = new Map([...live.keys()].map((n) => [n, grads.get(n)!]));
        const batchSize = o.batchSize ?? (ctx.probe ? await ctx.probe.batchTokens() : 1);
        hHat = await estimate({ params, grads: liveGrads, probe: ctx.probe!, mask: ctx.mask, seed: stepSeed(ctx.seed, state.counter('step')), batchSize });
      }
      const wins: Tensor[] = [];
      const counts: Tensor[] = [];
      try {
        for (const [name, m] of live) {
          const p = params.get(name)!;
          const g = grads.get(name)!;
          tf.tidy(() => {
            const m0 = state.get(name, 'exp_avg') ?? tf.zerosLike(p);
            const h0 = state.get(name, 'hessian') ?? tf.zerosLike(p);
            const est = hHat?.get(name);
            const h1 = est ? tf.add(tf.mul(h0, b2), tf.mul(est, 1 - b2)) : h0;
            const m1 = tf.add(tf.mul(m0, b1), tf.mul(g, 1 - b1));
            const denom = tf.mul(h1, o.rho);
            const ratio = tf.clipByValue(tf.div(m1, tf.maximum(denom, o.eps)), -1, 1);
            const decayed = o.weightDecay && p.rank >= 2 ? tf.mul(p, 1 - eta * o.weightDecay) : p;
            const next = tf.sub(decayed, tf.mul(ratio, eta));
            const unclipped = tf.cast(tf.less(tf.abs(m1), denom), 'float32');
            wins.push(tf.keep(tf.sum(m ? tf.mul(unclipped, m) : unclipped)));
            counts.push(tf.keep(m ? tf.sum(m) : tf.scalar(p.size)));
            state.set(name, 'exp_avg', keepFrozen(m, m1, m0));
            if (est) state.set(name, 'hessian', keepFrozen(m, h1, h0));
            else if (!state.get(name, 'hessian')) state.set(name, 'hessian', h0);
            p.assign(keepFrozen(m, next, p));
          });
        }
      } finally {
        if (hHat) tf.dispose([...hHat.values()]);
      }
      state.setCounter('step', t);
      let winRate = 0;
      if (wins.length) {
        const summary = tf.tidy(() => tf.stack([sumScalars(wins), sumScalars(counts)]));
        tf.dispose([...wins, ...counts]);
        try {
          const [won, total] = await summary.data();
          winRate = total > 0 ? won / total : 0;
        } finally {
          summary.dispose();
        }
      }
      return { lr: eta, winRate, hessianRefreshed: hHat ? 1 : 0 };
    },
    state: () => state.toMap(),
    loadState: (s) => state.load(s),
    dispose: () => state.dispose(),
  };
}

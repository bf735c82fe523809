// ZO-Adam (Chen et al. 2019, "ZO-AdaMM"): Adam moments on the zeroth-order estimate ĝ = (1/q) Σ pᵢ zᵢ, with AdamW's
// bias correction and decoupled decay on rank ≥ 2 parameters. Memory: the weights, two moment buffers and one
// parameter-sized scratch (θ is perturbed in place, ĝ formed per parameter; no activations kept).
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { betas, lr, nonnegative, parseOptions, positive, stepSeed } from './options.js';
import { keepFrozen, ParamState } from './param-state.js';
import { nonFiniteStep, perturbable, projections, restoredAndGradient, zerothOrderOptions } from './zeroth-order.js';

export const zoAdamOptions = z
  .object({ lr: lr.default(1e-4), betas: betas.default([0.9, 0.999]), eps: positive.default(1e-8), weightDecay: nonnegative.default(0), ...zerothOrderOptions })
  .strict();
export type ZoAdamOptions = z.input<typeof zoAdamOptions>;

export function zoAdam(options: ZoAdamOptions = {}): Optimizer {
  const o = parseOptions('zoAdam', zoAdamOptions, options);
  const [b1, b2] = o.betas;
  const state = new ParamState('zoAdam', ['exp_avg', 'exp_avg_sq']);
  return {
    name: 'zo-adam',
    specificationVersion: 'v1',
    usesGradients: false,
    async step(params: ParamMap, _grads: TensorMap, ctx: StepContext): Promise<StepStats> {
      if (!ctx.probe) throw new Error('zoAdam: needs ctx.probe.loss() (run it through the Trainer)');
      const eta = ctx.lr ?? o.lr;
      const t = state.counter('step') + 1;
      const live = perturbable('zoAdam', params, ctx.mask);
      const pr = await projections(params, live, ctx.probe, o.queries, o.mu, stepSeed(ctx.seed, t - 1), false); // θ at θ₀ − μz_q
      const bad = nonFiniteStep(params, live, pr, o.mu, eta); // NaN/Inf: θ restored, no update, the Trainer stops
      if (bad) return bad;
      const bc1 = 1 - b1 ** t;
      const sqrtBc2 = Math.sqrt(1 - b2 ** t);
      // ĝ is formed one parameter at a time (z regenerated from the seeds): no gradient-sized map of the whole model
      [...live].forEach(([name, m], j) => {
        const p = params.get(name)!;
        tf.tidy(() => {
          const { theta, g } = restoredAndGradient(p, j, m, pr, o.mu);
          const m0 = state.get(name, 'exp_avg') ?? tf.zerosLike(p);
          const v0 = state.get(name, 'exp_avg_sq') ?? tf.zerosLike(p);
          const m1 = tf.add(tf.mul(m0, b1), tf.mul(g, 1 - b1));
          const v1 = tf.add(tf.mul(v0, b2), tf.mul(tf.square(g), 1 - b2));
          const decayed = o.weightDecay && p.rank >= 2 ? tf.mul(theta, 1 - eta * o.weightDecay) : theta;
          const next = tf.sub(decayed, tf.mul(tf.div(m1, tf.add(tf.div(tf.sqrt(v1), sqrtBc2), o.eps)), eta / bc1));
          state.set(name, 'exp_avg', keepFrozen(m, m1, m0));
          state.set(name, 'exp_avg_sq', keepFrozen(m, v1, v0));
          p.assign(keepFrozen(m, next, theta));
        });
      });
      state.setCounter('step', t);
      return { lr: eta, loss: pr.loss, projectedGrad: pr.projected.reduce((a, b) => a + b, 0) / o.queries };
    },
    state: () => state.toMap(),
    loadState: (s) => state.load(s),
    dispose: () => state.dispose(),
  };
}

// ZO-SGD / MeZO (Malladi et al. 2023): θ ← θ − η·(1/q) Σ pᵢ zᵢ, each zᵢ regenerated from its seed while updating,
// so the step holds no gradient-sized tensor beyond one direction at a time. No gradient tape is opened
// (`usesGradients: false`); θ is perturbed in place (MeZO's +μz, −2μz, +μz), so memory is inference memory plus one
// parameter-sized scratch.
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { lr, nonnegative, parseOptions, stepSeed } from './options.js';
import { keepFrozen, ParamState } from './param-state.js';
import { direction, nonFiniteStep, perturbable, projections, zerothOrderOptions } from './zeroth-order.js';

export const zoSgdOptions = z.object({ lr: lr.default(1e-4), weightDecay: nonnegative.default(0), ...zerothOrderOptions }).strict();
export type ZoSgdOptions = z.input<typeof zoSgdOptions>;

export function zoSgd(options: ZoSgdOptions = {}): Optimizer {
  const o = parseOptions('zoSgd', zoSgdOptions, options);
  const state = new ParamState('zoSgd', []);
  return {
    name: 'zo-sgd',
    specificationVersion: 'v1',
    usesGradients: false,
    async step(params: ParamMap, _grads: TensorMap, ctx: StepContext): Promise<StepStats> {
      if (!ctx.probe) throw new Error('zoSgd: needs ctx.probe.loss() (run it through the Trainer)');
      const eta = ctx.lr ?? o.lr;
      const live = perturbable('zoSgd', params, ctx.mask);
      // θ comes back at θ₀ − μ·z_q (the last +μz is folded into the update: one pass over z fewer)
      const pr = await projections(params, live, ctx.probe, o.queries, o.mu, stepSeed(ctx.seed, state.counter('step')), false);
      const bad = nonFiniteStep(params, live, pr, o.mu, eta); // NaN/Inf: θ restored, no update, the Trainer stops
      if (bad) return bad;
      const last = pr.seeds.length - 1;
      [...live].forEach(([name, m], j) => {
        const p = params.get(name)!;
        tf.tidy(() => {
          let next: tf.Tensor = p;
          if (o.weightDecay && p.rank >= 2) {
            next = tf.mul(tf.add(p, tf.mul(direction(p.shape, pr.seeds[last], j, m), o.mu)), 1 - eta * o.weightDecay);
            pr.seeds.forEach((s, i) => (next = tf.sub(next, tf.mul(direction(p.shape, s, j, m), (eta * pr.projected[i]) / o.queries))));
          } else {
            pr.seeds.forEach((s, i) => {
              const c = (i === last ? o.mu : 0) - (eta * pr.projected[i]) / o.queries;
              next = tf.add(next, tf.mul(direction(p.shape, s, j, m), c));
            });
          }
          p.assign(keepFrozen(m, next, p));
        });
      });
      state.setCounter('step', state.counter('step') + 1);
      return { lr: eta, loss: pr.loss, projectedGrad: pr.projected.reduce((a, b) => a + b, 0) / o.queries };
    },
    state: () => state.toMap(),
    loadState: (s) => state.load(s),
    dispose: () => state.dispose(),
  };
}

// ZO-signSGD (Liu et al. 2019, "signSGD via Zeroth-Order Oracle"): θ ← θ − η·sign(ĝ), ĝ = (1/q) Σ pᵢ zᵢ.
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { lr, nonnegative, parseOptions, stepSeed } from './options.js';
import { keepFrozen, ParamState } from './param-state.js';
import { nonFiniteStep, perturbable, projections, restoredAndGradient, zerothOrderOptions } from './zeroth-order.js';

export const zoSignSgdOptions = z.object({ lr: lr.default(1e-5), weightDecay: nonnegative.default(0), ...zerothOrderOptions }).strict();
export type ZoSignSgdOptions = z.input<typeof zoSignSgdOptions>;

export function zoSignSgd(options: ZoSignSgdOptions = {}): Optimizer {
  const o = parseOptions('zoSignSgd', zoSignSgdOptions, options);
  const state = new ParamState('zoSignSgd', []);
  return {
    name: 'zo-sign-sgd',
    specificationVersion: 'v1',
    usesGradients: false,
    async step(params: ParamMap, _grads: TensorMap, ctx: StepContext): Promise<StepStats> {
      if (!ctx.probe) throw new Error('zoSignSgd: needs ctx.probe.loss() (run it through the Trainer)');
      const eta = ctx.lr ?? o.lr;
      const live = perturbable('zoSignSgd', params, ctx.mask);
      const pr = await projections(params, live, ctx.probe, o.queries, o.mu, stepSeed(ctx.seed, state.counter('step')), false); // θ at θ₀ − μz_q
      const bad = nonFiniteStep(params, live, pr, o.mu, eta); // NaN/Inf: θ restored, no update, the Trainer stops
      if (bad) return bad;
      [...live].forEach(([name, m], j) => {
        const p = params.get(name)!;
        tf.tidy(() => {
          const { theta, g } = restoredAndGradient(p, j, m, pr, o.mu);
          const decayed = o.weightDecay && p.rank >= 2 ? tf.mul(theta, 1 - eta * o.weightDecay) : theta;
          p.assign(keepFrozen(m, tf.sub(decayed, tf.mul(tf.sign(g), eta)), theta));
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

// One-shot influence unlearning (Koh & Liang 2017; Jia et al. 2023; the baseline SOUL generalises): a single Newton
// step on the objective with the RETAIN loss's curvature,
//   θ ← θ − α·(H_r + λI)⁻¹ g,     g = ∇ objective
// With gradient ascent (objective −ℓ_f, g = −∇ℓ_f) this is θ + α·H_r⁻¹∇ℓ_f, the influence-function update.
// H_r is the empirical Fisher of per-example retain gradients (solver `woodfisher`), or the retain NLL's Hessian via
// finite-difference HVPs solved by conjugate gradient (`cg`). With a mask the system is solved on the unmasked
// coordinates only (vectors and HVPs restricted to them), and masked entries stay bit-exact.
// Each step() performs one full solve: run it for one step (the Optimizer interface keeps it composable). Host reads
// (CG scalars, the WoodFisher system, the update norm) are asynchronous: step() returns a Promise.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { conjugateGradient } from './conjugate-gradient.js';
import { parseOptions, positive } from './options.js';
import { sumScalars } from './scalar-sum.js';
import { keepFrozen, maskOf, ParamState } from './param-state.js';
import { woodfisherSolve } from './woodfisher.js';

export const influenceOptions = z
  .object({
    solver: z.enum(['woodfisher', 'cg']).default('woodfisher'),
    /** λ added to the curvature. */
    damping: positive.default(1e-3),
    /** α: step scale. */
    scale: z.number().finite().default(1),
    /** CG iteration cap and relative-residual tolerance. */
    maxIterations: z.number().int().positive().default(50),
    tolerance: positive.default(1e-4),
    /** Accepted (and ignored) so a schedule's lr can be passed uniformly; the step size is `scale`. */
    lr: z.number().optional(),
  })
  .strict();
export type InfluenceOptions = z.input<typeof influenceOptions>;

export function influence(options: InfluenceOptions = {}): Optimizer {
  const o = parseOptions('influence', influenceOptions, options);
  const state = new ParamState('influence', []);
  return {
    name: 'influence',
    specificationVersion: 'v1',
    async step(params: ParamMap, grads: TensorMap, ctx: StepContext): Promise<StepStats> {
      const retain = ctx.probe?.retain;
      if (!retain) throw new Error('influence: needs the retain curvature (ctx.probe.retain): give the Trainer batches with a retain part');
      const masks = new Map<string, Tensor | undefined>();
      for (const [name, p] of params) {
        const m = maskOf('influence', ctx.mask, name, p.shape);
        if (grads.has(name) && m !== null) masks.set(name, m);
      }
      const restrict = (map: TensorMap, dispose: boolean): TensorMap => {
        const out: TensorMap = new Map();
        for (const [name, m] of masks) out.set(name, m ? tf.mul(map.get(name)!, m) : tf.clone(map.get(name)!));
        if (dispose) tf.dispose([...map.values()]);
        return out;
      };
      const v = restrict(grads, false);
      let x: TensorMap;
      const stats: StepStats = {};
      try {
        if (o.solver === 'woodfisher') {
          const perSample = (await retain.perSampleGradients()).map((g) => restrict(g, true));
          try {
            x = await woodfisherSolve(v, perSample, o.damping);
          } finally {
            perSample.forEach((g) => tf.dispose([...g.values()]));
          }
          stats.examples = perSample.length;
        } else {
          const result = await conjugateGradient(async (dir) => restrict(await retain.hessianVectorProduct(dir), true), v, o.damping, o.maxIterations, o.tolerance);
          x = result.x;
          Object.assign(stats, { iterations: result.iterations, relativeResidual: result.relativeResidual, negativeCurvature: result.negativeCurvature ? 1 : 0 });
        }
      } finally {
        tf.dispose([...v.values()]);
      }
      for (const [name, m] of masks) {
        const p = params.get(name)!;
        tf.tidy(() => p.assign(keepFrozen(m, tf.sub(p, tf.mul(x.get(name)!, o.scale)), p)));
      }
      const norm = tf.tidy(() => tf.sqrt(sumScalars([...x.values()].map((t) => tf.sum(tf.square(t))))));
      tf.dispose([...x.values()]);
      state.setCounter('step', state.counter('step') + 1);
      try {
        stats.updateNorm = Math.abs(o.scale) * (await norm.data())[0];
      } finally {
        norm.dispose();
      }
      return stats;
    },
    state: () => state.toMap(),
    loadState: (s) => state.load(s),
    dispose: () => state.dispose(),
  };
}

// One-shot influence unlearning (Koh & Liang 2017, §2 "upweighting a training point", with ε = −1/n per removed point;
// Jia et al. 2023 "Model Sparsity Can Simplify Machine Unlearning", §4 and App. A; the static update SOUL — Jia et al.
// 2024, arXiv:2404.18239, §3 — turns into its iterative form). Removing the forget set from a model trained to a
// stationary point of the joint loss is, to second order, one Newton step on the retain loss:
//   θ_u = θ_o + α·(H_r + λI)⁻¹ ∇ℓ_f(θ_o),     α = T_f / T_r,
// with ℓ_f, ℓ_r the token-mean NLLs of the whole forget and retain sets (T_f, T_r their loss-bearing tokens: at θ_o,
// T_r∇ℓ_r + T_f∇ℓ_f = 0, so −H_r⁻¹∇ℓ_r = (T_f/T_r)·H_r⁻¹∇ℓ_f) and λ the damping that makes the solve well posed.
// H_r is the empirical Fisher of per-example retain gradients, inverted exactly by Woodbury (`woodfisher`, Singh &
// Alistarh 2020 — the solver Jia et al. 2023 use), or the retain NLL's Hessian through finite-difference HVPs solved by
// conjugate gradient (`cg`). The optimizer declares `needs` (the whole forget set and the retain set — all of it, or a
// stated sample of `retainExamples`), which the caller passes as `ctx.sets`; it does not use the objective's batches.
// Without `ctx.sets` (a Trainer that does not supply them) it falls back to the step's own batch:
//   θ ← θ − α·(H_r + λI)⁻¹ g,  g = ∇ objective on the batch, H_r from the batch's retain part (stats.sets = 0),
// which with gradient ascent is the same formula on 8 examples instead of the set — composable, but not the method.
// With a mask the system is solved on the unmasked coordinates only, and masked entries stay bit-exact. Reported:
// damping, α, the examples used, ‖update‖, and `curvatureShare` = ‖λx − v‖/‖v‖ — how far the solve moved the
// direction away from the plain (1/λ)-scaled gradient (0: the curvature did nothing; WoodFisher with N ≪ d examples
// and a large λ is close to 0). Host reads (CG scalars, the WoodFisher system, norms) are asynchronous.
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
    /** α: step scale; 'newton' (default) = T_f/T_r, the Newton step to the retain optimum (1 on the batch fallback). */
    scale: z.union([z.number().finite(), z.literal('newton')]).default('newton'),
    /** Curvature from the first `retainExamples` retain examples instead of the whole retain set. */
    retainExamples: z.number().int().positive().optional(),
    /** CG iteration cap and relative-residual tolerance. */
    maxIterations: z.number().int().positive().default(50),
    tolerance: positive.default(1e-4),
    /** Accepted (and ignored) so a schedule's lr can be passed uniformly; the step size is `scale`. */
    lr: z.number().optional(),
  })
  .strict();
export type InfluenceOptions = z.input<typeof influenceOptions>;

const sqNorm = (m: TensorMap) => tf.tidy(() => sumScalars([...m.values()].map((t) => tf.sum(tf.square(t)))));

export function influence(options: InfluenceOptions = {}): Optimizer {
  const o = parseOptions('influence', influenceOptions, options);
  const state = new ParamState('influence', []);
  return {
    name: 'influence',
    needs: { forgetSet: true, retainSet: o.retainExamples ? { examples: o.retainExamples } : true },
    specificationVersion: 'v1',
    async step(params: ParamMap, grads: TensorMap, ctx: StepContext): Promise<StepStats> {
      const sets = ctx.sets?.forget && ctx.sets.retain ? { forget: ctx.sets.forget, retain: ctx.sets.retain } : undefined;
      const retain = sets?.retain ?? ctx.probe?.retain;
      if (!retain) throw new Error('influence: needs the retain set (ctx.sets.retain, declared in optimizer.needs) or at least a retain batch (ctx.probe.retain)');
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
      // v: ∇ℓ_f over the forget set (update +αx), or the objective's gradient on the batch (update −αx)
      const v = sets ? restrict(await sets.forget.gradient(), true) : restrict(grads, false);
      let alpha: number;
      if (o.scale !== 'newton') alpha = o.scale;
      else if (sets) alpha = (await sets.forget.tokens()) / Math.max(await sets.retain.tokens(), 1);
      else alpha = 1;
      const direction = sets ? 1 : -1;
      let x: TensorMap;
      const stats: StepStats = { damping: o.damping, scale: alpha, sets: sets ? 1 : 0 };
      try {
        if (sets) Object.assign(stats, { forgetExamples: await sets.forget.examples(), retainExamples: await sets.retain.examples() });
        if (o.solver === 'woodfisher') {
          const raw = sets ? await sets.retain.perExampleGradients() : await ctx.probe!.retain!.perSampleGradients();
          const perSample = raw.map((g) => restrict(g, true));
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
        const norms = tf.tidy(() => tf.stack([
          tf.sqrt(sqNorm(x)),
          tf.sqrt(sumScalars([...x].map(([name, t]) => tf.sum(tf.square(tf.sub(tf.mul(t, o.damping), v.get(name)!)))))),
          tf.sqrt(sqNorm(v)),
        ]));
        const [xNorm, moved, vNorm] = Array.from(await norms.data());
        norms.dispose();
        Object.assign(stats, { updateNorm: Math.abs(alpha) * xNorm, gradientNorm: vNorm, curvatureShare: vNorm > 0 ? moved / vNorm : 0 });
      } finally {
        tf.dispose([...v.values()]);
      }
      for (const [name, m] of masks) {
        const p = params.get(name)!;
        tf.tidy(() => p.assign(keepFrozen(m, tf.add(p, tf.mul(x.get(name)!, direction * alpha)), p)));
      }
      tf.dispose([...x.values()]);
      state.setCounter('step', state.counter('step') + 1);
      return stats;
    },
    state: () => state.toMap(),
    loadState: (s) => state.load(s),
    dispose: () => state.dispose(),
  };
}

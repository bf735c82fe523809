// AdamW (Loshchilov & Hutter 2019), PyTorch / nanoGPT semantics: decoupled weight decay θ ← θ(1 − ηλ) on parameters
// of rank ≥ 2 only (matrices and embeddings; not biases or norm gains); m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
// θ ← θ − η/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε). Masked entries keep θ, m and v bit-exactly (decay included).
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { betas, lr, nonnegative, parseOptions, positive } from './options.js';
import { keepFrozen, maskOf, ParamState } from './param-state.js';

export const adamwOptions = z
  .object({
    lr: lr.default(1e-3),
    betas: betas.default([0.9, 0.999]),
    eps: positive.default(1e-8),
    weightDecay: nonnegative.default(0.01),
  })
  .strict();
export type AdamwOptions = z.input<typeof adamwOptions>;

export function adamw(options: AdamwOptions = {}): Optimizer {
  const o = parseOptions('adamw', adamwOptions, options);
  const [b1, b2] = o.betas;
  const state = new ParamState('adamw', ['exp_avg', 'exp_avg_sq']);
  return {
    name: 'adamw',
    specificationVersion: 'v1',
    step(params: ParamMap, grads: TensorMap, ctx: StepContext): StepStats {
      const eta = ctx.lr ?? o.lr;
      const t = state.counter('step') + 1;
      const bc1 = 1 - b1 ** t;
      const sqrtBc2 = Math.sqrt(1 - b2 ** t);
      for (const [name, p] of params) {
        const g = grads.get(name);
        const m = maskOf('adamw', ctx.mask, name, p.shape);
        if (!g || m === null) continue;
        tf.tidy(() => {
          const zeros = () => tf.zerosLike(p);
          const m0 = state.get(name, 'exp_avg') ?? zeros();
          const v0 = state.get(name, 'exp_avg_sq') ?? zeros();
          const m1 = tf.add(tf.mul(m0, b1), tf.mul(g, 1 - b1));
          const v1 = tf.add(tf.mul(v0, b2), tf.mul(tf.square(g), 1 - b2));
          const decayed = o.weightDecay && p.rank >= 2 ? tf.mul(p, 1 - eta * o.weightDecay) : p;
          const denom = tf.add(tf.div(tf.sqrt(v1), sqrtBc2), o.eps);
          const next = tf.sub(decayed, tf.mul(tf.div(m1, denom), eta / bc1));
          state.set(name, 'exp_avg', keepFrozen(m, m1, m0));
          state.set(name, 'exp_avg_sq', keepFrozen(m, v1, v0));
          p.assign(keepFrozen(m, next, p));
        });
      }
      state.setCounter('step', t);
      return { lr: eta };
    },
    state: () => state.toMap(),
    loadState: (s) => state.load(s),
    dispose: () => state.dispose(),
  };
}

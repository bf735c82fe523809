// SGD with momentum, PyTorch semantics (torch.optim.SGD): g ← g + λθ (coupled L2 decay);
// b ← g on the first step, else b ← μ·b + (1 − dampening)·g; nesterov: g ← g + μ·b, else g ← b; θ ← θ − η·g.
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer, ParamMap, StepContext, StepStats, TensorMap } from '@unlearn/core';
import { z } from 'zod';
import { lr, nonnegative, parseOptions } from './options.js';
import { keepFrozen, maskOf, ParamState } from './param-state.js';

export const sgdOptions = z
  .object({
    lr: lr.default(1e-3),
    momentum: z.number().gte(0).lt(1).default(0),
    dampening: z.number().gte(0).lte(1).default(0),
    weightDecay: nonnegative.default(0),
    nesterov: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.nesterov || (o.momentum > 0 && o.dampening === 0), { message: 'nesterov needs momentum > 0 and dampening 0' });
export type SgdOptions = z.input<typeof sgdOptions>;

export function sgd(options: SgdOptions = {}): Optimizer {
  const o = parseOptions('sgd', sgdOptions, options);
  const state = new ParamState('sgd', ['momentum_buffer']);
  return {
    name: 'sgd',
    specificationVersion: 'v1',
    step(params: ParamMap, grads: TensorMap, ctx: StepContext): StepStats {
      const eta = ctx.lr ?? o.lr;
      for (const [name, p] of params) {
        const g = grads.get(name);
        const m = maskOf('sgd', ctx.mask, name, p.shape);
        if (!g || m === null) continue;
        tf.tidy(() => {
          let d = o.weightDecay ? tf.add(g, tf.mul(p, o.weightDecay)) : g;
          if (o.momentum > 0) {
            const prev = state.get(name, 'momentum_buffer');
            const buf = prev ? tf.add(tf.mul(prev, o.momentum), tf.mul(d, 1 - o.dampening)) : tf.clone(d); // never alias the caller's gradient
            state.set(name, 'momentum_buffer', keepFrozen(m, buf, prev ?? tf.zerosLike(p)));
            d = o.nesterov ? tf.add(d, tf.mul(buf, o.momentum)) : buf;
          }
          p.assign(keepFrozen(m, tf.sub(p, tf.mul(d, eta)), p));
        });
      }
      state.setCounter('step', state.counter('step') + 1);
      return { lr: eta };
    },
    state: () => state.toMap(),
    loadState: (s) => state.load(s),
    dispose: () => state.dispose(),
  };
}

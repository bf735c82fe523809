// Every optimizer honours a Mask completely (no decay, momentum or curvature drift on frozen entries — the leak WAGLE's
// public code has), and state() / loadState() round-trip exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { Trainer, createCurvatureProbe, gradientsOf, lossOf } from '@unlearn/train';
import type { Mask, Optimizer } from '@unlearn/core';
import { adamw, influence, sgd, sophia, zoAdam, zoSgd, zoSignSgd } from '../src/index.js';
import { NAMES, disposeMap, disposeUnlearnBatch, goldenBatch, goldenModel, snapshot, toyGradDiff } from './helpers.js';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

const objective = toyGradDiff(1, 1);
const FACTORIES: Record<string, () => Optimizer> = {
  sgd: () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.1 }),
  adamw: () => adamw({ lr: 0.01, weightDecay: 0.1 }),
  'sophia-gnb': () => sophia({ lr: 0.01, rho: 3, weightDecay: 0.1, k: 2 }),
  'sophia-fisher': () => sophia({ lr: 0.01, rho: 3, weightDecay: 0.1, estimator: 'fisher' }),
  'sophia-hutchinson': () => sophia({ lr: 0.01, rho: 3, weightDecay: 0.1, estimator: 'hutchinson', k: 2 }),
  influence: () => influence({ damping: 0.1, scale: 0.1 }),
  'zo-sgd': () => zoSgd({ lr: 0.01, weightDecay: 0.1, queries: 2 }),
  'zo-adam': () => zoAdam({ lr: 0.01, weightDecay: 0.1 }),
  'zo-sign-sgd': () => zoSignSgd({ lr: 0.01, weightDecay: 0.1 }),
};

/** lm_head: a checkerboard; mlp.weight: all zeros (named but frozen); embed: all ones; bias: absent (frozen entirely). */
function makeMask(): { mask: Mask; free: Record<string, boolean[]> } {
  const head = Array.from({ length: 7 * 5 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const mask: Mask = new Map([
    ['lm_head.weight', tf.tensor(head, [7, 5])],
    ['model.layers.0.mlp.weight', tf.zeros([5, 5])],
    ['model.embed_tokens.weight', tf.ones([7, 5])],
  ]);
  const free = {
    'lm_head.weight': head.map((x) => x === 1),
    'model.layers.0.mlp.weight': new Array(25).fill(false),
    'model.embed_tokens.weight': new Array(35).fill(true),
    'model.layers.0.mlp.bias': new Array(5).fill(false),
  };
  return { mask, free };
}

describe.each(Object.keys(FACTORIES))('%s', (name) => {
  it('keeps masked-out entries of the parameters and of every state slot bit-exact (decay included)', async () => {
    const before = tf.memory().numTensors;
    const model = goldenModel();
    const batch = goldenBatch();
    const start = snapshot(model.params);
    const { mask, free } = makeMask();
    const optimizer = FACTORIES[name]();
    const steps = name === 'influence' ? 1 : 3;
    await new Trainer({ model, objective, optimizer, data: [batch], steps, mask, seed: 1 }).run();
    const after = snapshot(model.params);
    let moved = 0;
    for (const n of NAMES) {
      after[n].forEach((x, i) => {
        if (!free[n][i]) expect(x, `${n}[${i}]`).toBe(start[n][i]); // bit-exact, not close
        else if (x !== start[n][i]) moved++;
      });
    }
    expect(moved).toBeGreaterThan(30); // and the free entries did change
    const state = optimizer.state();
    for (const [key, t] of state) {
      const param = key.slice(0, key.lastIndexOf('/'));
      if (!free[param]) continue; // counters
      const values = Array.from(t.dataSync());
      values.forEach((x, i) => {
        if (!free[param][i]) expect(x, `${key}[${i}]`).toBe(0);
      });
    }
    expect([...state.keys()].some((k) => k.startsWith('model.layers.0.mlp.bias/'))).toBe(false); // no state for a frozen parameter
    disposeMap(state);
    disposeMap(mask);
    optimizer.dispose();
    disposeUnlearnBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('state() / loadState() round-trips exactly: a restored optimizer continues bit-identically', async () => {
    const before = tf.memory().numTensors;
    const modelA = goldenModel();
    const batch = goldenBatch();
    const a = FACTORIES[name]();
    const warm = name === 'influence' ? 1 : 2;
    await new Trainer({ model: modelA, objective, optimizer: a, data: [batch], steps: warm, seed: 5 }).run();
    const saved = a.state();
    expect([...saved.keys()]).toContain('step');
    const modelB = goldenModel();
    for (const [n, v] of modelA.params) modelB.params.get(n)!.assign(v);
    const b = FACTORIES[name]();
    await b.loadState(saved);
    const reloaded = b.state();
    expect(snapshot(reloaded)).toEqual(snapshot(saved));
    // one more identical step on both
    for (const [model, opt] of [[modelA, a], [modelB, b]] as const) {
      const grads = opt.usesGradients === false ? new Map() : gradientsOf(() => lossOf(objective.loss(model, batch, { step: warm })), model.params);
      const probe = createCurvatureProbe({ model, objective, batch, objectiveContext: { step: warm } });
      await opt.step(model.params, grads, { step: warm, probe, seed: 77 });
      probe.dispose();
      disposeMap(grads);
    }
    expect(snapshot(modelB.params)).toEqual(snapshot(modelA.params));
    disposeMap(saved);
    disposeMap(reloaded);
    a.dispose();
    b.dispose();
    disposeUnlearnBatch(batch);
    modelA.dispose();
    modelB.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('mask and state errors', () => {
  it('rejects a mask of the wrong shape and unknown state entries with one-line errors', async () => {
    const model = goldenModel();
    const batch = goldenBatch();
    const grads = gradientsOf(() => lossOf(objective.loss(model, batch, { step: 0 })), model.params);
    const bad: Mask = new Map([['lm_head.weight', tf.ones([5, 7])]]);
    const opt = adamw();
    expect(() => opt.step(model.params, grads, { step: 0, mask: bad })).toThrow('adamw: mask for "lm_head.weight" has shape [5,7], the parameter [7,5]');
    const state = new Map([['lm_head.weight/velocity', tf.zeros([7, 5])]]);
    await expect(async () => opt.loadState(state)).rejects.toThrow('adamw.loadState: unknown state entry "lm_head.weight/velocity" (expected <param>/exp_avg|exp_avg_sq or step)');
    expect(() => sophia({ rho: -1 })).toThrow('sophia: invalid options: rho: Number must be greater than 0');
    expect(() => sophia({ estimator: 'gbn' as 'gnb' })).toThrow(/^sophia: invalid options: estimator: /);
    expect(() => adamw({ betta: 0.9 } as never)).toThrow('adamw: invalid options: unknown option "betta"');
    const noProbe = sophia({ estimator: 'gnb' });
    await expect(async () => noProbe.step(model.params, grads, { step: 0 })).rejects.toThrow('sophia: the gnb estimator needs ctx.probe (run it through the Trainer or pass a CurvatureProbe)');
    await expect(async () => influence().step(model.params, grads, { step: 0 })).rejects.toThrow(/^influence: needs the retain set \(ctx.sets.retain, declared in optimizer.needs\) or at least a retain batch/);
    tf.dispose([...bad.values(), ...state.values()]);
    disposeMap(grads);
    opt.dispose();
    noProbe.dispose();
    disposeUnlearnBatch(batch);
    model.dispose();
  });
});

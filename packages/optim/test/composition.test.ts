// Any Objective × any Optimizer × any Mask composes: every registered objective × {sgd, adamw, sophia-gnb,
// sophia-fisher, sophia-hutchinson} × {no mask, a WAGLE-style random mask} runs 2 Trainer steps on a tiny Llama with
// finite losses, no leaked tensors, moved free entries and bit-exact frozen ones.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { get, list } from '@unlearn/core';
import { Trainer } from '@unlearn/train';
import type { CausalLM, Mask } from '@unlearn/core';
import { createModel } from '@unlearn/models';
import '@unlearn/objectives';
import '@unlearn/attribution';
import '../src/index.js';
import { config, disposeBatch, unlearnBatch } from './composition-fixture.js';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});


const OPTIMIZERS: Record<string, Record<string, unknown>> = {
  sgd: { name: 'sgd', lr: 0.05, momentum: 0.9 },
  adamw: { name: 'adamw', lr: 1e-2 },
  'sophia-gnb': { name: 'sophia', lr: 1e-2, estimator: 'gnb', k: 1 },
  'sophia-fisher': { name: 'sophia', lr: 1e-2, estimator: 'fisher' },
  'sophia-hutchinson': { name: 'sophia', lr: 1e-2, estimator: 'hutchinson', k: 1 },
};
const objectives = list('objective');

describe('composition matrix', () => {
  it('has the objectives of @unlearn/objectives registered', () => {
    expect(objectives).toEqual(expect.arrayContaining(['ga', 'graddiff', 'kl', 'npo', 'simnpo', 'idk', 'idkdpo', 'rmu']));
  });

  const cases = objectives.flatMap((o) => Object.keys(OPTIMIZERS).flatMap((opt) => [[o, opt, false], [o, opt, true]] as [string, string, boolean][]));
  it.each(cases)('%s × %s × mask=%s: 2 steps, finite losses, no leaks', async (objectiveName, optimizerName, masked) => {
    const before = tf.memory().numTensors;
    const model: CausalLM = createModel(config, { seed: 1 });
    const start = new Map([...model.params].map(([n, v]) => [n, v.dataSync().slice()]));
    const batch = unlearnBatch();
    let mask: Mask | undefined;
    if (masked) {
      mask = await get('mask', 'random')({ seed: 3 }).build(model, { forget: [batch.forget], retain: [batch.retain!] }, { keep: 0.3 });
    }
    const { name, ...options } = OPTIMIZERS[optimizerName];
    const optimizer = get('optimizer', name as string)(options);
    const objective = get('objective', objectiveName)();
    const losses: number[] = [];
    await new Trainer({ model, objective, optimizer, data: [batch], steps: 2, mask, seed: 7, onStep: (e) => void losses.push(e.loss) }).run();
    expect(losses.length).toBe(2);
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));
    let moved = 0;
    for (const [n, v] of model.params) {
      const now = v.dataSync();
      const m = mask?.get(n)?.dataSync();
      const was = start.get(n)!;
      for (let i = 0; i < now.length; i++) {
        if (mask && !(m && m[i] > 0)) expect(now[i]).toBe(was[i]);
        else if (now[i] !== was[i]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
    optimizer.dispose();
    if (mask) tf.dispose([...mask.values()]);
    disposeBatch(batch);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// Objectives × optimizers × masks on LoRA adapters: on a tiny Llama with adapters on q_proj/v_proj, each of
// {npo, graddiff, kl, idkdpo} × {adamw, sophia-gnb, zo-sgd} × {no mask, WAGLE} runs 2 Trainer steps with finite losses and
// no leaked tensors; adapter entries move (only unmasked ones), every base weight stays bit-identical, and the reference
// the Trainer builds (`frozenCopy()`) is the base with the adapters off (its logits equal the base's, not the adapted's).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { get } from '@unlearn/core';
import { Trainer } from '@unlearn/train';
import type { Mask } from '@unlearn/core';
import { applyLora, createModel, loraOf } from '@unlearn/models';
import '@unlearn/objectives';
import '@unlearn/attribution';
import '../src/index.js';
import { config, disposeBatch, unlearnBatch } from './composition-fixture.js';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});


const OPTIMIZERS: Record<string, Record<string, unknown>> = {
  adamw: { name: 'adamw', lr: 1e-2 },
  'sophia-gnb': { name: 'sophia', lr: 1e-2, estimator: 'gnb', k: 1 },
  'zo-sgd': { name: 'zo-sgd', lr: 1e-2, mu: 1e-2 },
};
const OBJECTIVES = ['npo', 'graddiff', 'kl', 'idkdpo'];

describe('composition on LoRA adapters', () => {
  const cases = OBJECTIVES.flatMap((o) => Object.keys(OPTIMIZERS).flatMap((opt) => [[o, opt, 'none'], [o, opt, 'wagle']] as [string, string, string][]));
  it.each(cases)('%s × %s × mask=%s: adapters move, base weights do not, reference = adapters off', async (objectiveName, optimizerName, maskName) => {
    const before = tf.memory().numTensors;
    const base = createModel(config, { seed: 1 });
    const model = applyLora(base, { r: 2, alpha: 4, targets: ['q_proj', 'v_proj'], seed: 2 });
    // a non-zero B so the adapted model differs from the base (fresh adapters start equal to it)
    for (const [n, v] of model.params) if (n.endsWith('lora_B.weight')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 11)));
    const trainable = [...model.params].filter(([, v]) => v.trainable).map(([n]) => n);
    expect(trainable.length).toBe(8);
    expect(trainable.every((n) => n.includes('.lora_'))).toBe(true);
    const start = new Map([...model.params].map(([n, v]) => [n, v.dataSync().slice()]));
    const batch = unlearnBatch();
    let mask: Mask | undefined;
    if (maskName === 'wagle') {
      mask = await get('mask', 'wagle')().build(model, { forget: [batch.forget], retain: [batch.retain!] }, { keep: 0.3 });
      expect([...mask.keys()].sort()).toEqual([...trainable].sort());
    }
    // the reference the Trainer will use: the base with the adapters off
    const reference = model.frozenCopy();
    const ids = batch.forget.inputIds;
    const [refLogits, baseLogits, adaptedLogits] = [reference, base, model].map((m) => m.forward({ inputIds: ids }).logits);
    const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    expect(maxDiff(refLogits, baseLogits)).toBe(0);
    expect(maxDiff(refLogits, adaptedLogits)).toBeGreaterThan(1e-3);
    tf.dispose([refLogits, baseLogits, adaptedLogits]);

    const { name, ...options } = OPTIMIZERS[optimizerName];
    const optimizer = get('optimizer', name as string)(options);
    const objective = get('objective', objectiveName)();
    const losses: number[] = [];
    await new Trainer({ model, objective, optimizer, data: [batch], steps: 2, mask, reference, seed: 7, onStep: (e) => void losses.push(e.loss) }).run();
    expect(losses.every(Number.isFinite)).toBe(true);
    let moved = 0;
    for (const [n, v] of model.params) {
      const now = v.dataSync();
      const was = start.get(n)!;
      if (!n.includes('.lora_')) {
        expect(Array.from(now), n).toEqual(Array.from(was));
        continue;
      }
      const m = mask?.get(n)?.dataSync();
      for (let i = 0; i < now.length; i++) {
        if (m && !(m[i] > 0)) expect(now[i]).toBe(was[i]);
        else if (now[i] !== was[i]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(loraOf(model)!.enabled).toBe(true);
    optimizer.dispose();
    if (mask) tf.dispose([...mask.values()]);
    disposeBatch(batch);
    reference.dispose();
    model.dispose();
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@unlearn/tensors';
import { clipByGlobalNorm, constantSchedule, cosineSchedule, globalNorm, linearSchedule } from '../src/index.js';

beforeAll(async () => {
  await initBackend((process.env.UNLEARN_TEST_BACKEND ?? 'cpu') as BackendName);
});

describe('schedules (Hugging Face semantics)', () => {
  it('warm up linearly from 0, then hold, decay linearly or by half a cosine', () => {
    const c = constantSchedule({ lr: 0.1, warmup: 4 });
    expect([0, 1, 2, 3, 4, 100].map(c)).toEqual([0, 0.025, 0.05, 0.075, 0.1, 0.1].map((x) => expect.closeTo(x, 12)));
    // get_linear_schedule_with_warmup: max(0, (T − s)/(T − W)) after warmup
    const l = linearSchedule({ lr: 1, warmup: 2, total: 10 });
    expect([0, 1, 2, 6, 10, 12].map(l)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
    // get_cosine_schedule_with_warmup: ½(1 + cos(π·(s − W)/(T − W)))
    const cs = cosineSchedule({ lr: 2, warmup: 0, total: 8, final: 0.5 });
    expect(cs(0)).toBe(2);
    expect(cs(4)).toBeCloseTo(0.5 + 1.5 * 0.5, 12);
    expect(cs(2)).toBeCloseTo(0.5 + 1.5 * 0.5 * (1 + Math.SQRT1_2), 12);
    expect(cs(8)).toBeCloseTo(0.5, 12);
    expect(cs(20)).toBeCloseTo(0.5, 12);
  });

  it('validates options', () => {
    expect(() => linearSchedule({ lr: 1, warmup: 10, total: 10 })).toThrow('linearSchedule: invalid options: warmup must be shorter than total');
    expect(() => cosineSchedule({ lr: -1, total: 3 })).toThrow('cosineSchedule: invalid options: lr: Number must be greater than or equal to 0');
  });
});

describe('clipByGlobalNorm', () => {
  it('scales all gradients by maxNorm/‖g‖ when the global norm is larger, and copies them otherwise', async () => {
    const before = tf.memory().numTensors;
    const grads = new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 0])], ['b', tf.tensor2d([[0, 4]])]]); // ‖g‖ = 5
    expect(await globalNorm(grads)).toBeCloseTo(5, 6);
    const clipped = await clipByGlobalNorm(grads, 1);
    expect(clipped.norm).toBeCloseTo(5, 6);
    expect(Array.from(clipped.grads.get('a')!.dataSync())).toEqual([expect.closeTo(0.6, 6), 0]);
    expect(Array.from(clipped.grads.get('b')!.dataSync())).toEqual([0, expect.closeTo(0.8, 6)]);
    const kept = await clipByGlobalNorm(grads, 10);
    expect(Array.from(kept.grads.get('a')!.dataSync())).toEqual([3, 0]);
    tf.dispose([...grads.values(), ...clipped.grads.values(), ...kept.grads.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

// One small transformer-shaped computation — embedding gather (duplicate ids), linear, layer norm, batched attention
// matmuls, softmax, cross-entropy with ignored labels — and its gradients, on every backend: all must agree with cpu
// within 1e-4. 'native' (@unlearn/backend-native) joins when initBackend('native') succeeds; otherwise the reason is
// printed and its case skipped — unless UNLEARN_TEST_BACKEND=native asks for it, in which case failing to start fails.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, linear, matmul } from '../src/index.js';
import { crossEntropyOneHot, layerNorm } from './composites.js';
import { maxAbsDiff, noLeaks, randomArray, rng } from './helpers.js';
import { crossEntropyRef } from './reference-f64.js';

const [B, T, D, V] = [2, 4, 8, 11];
const ids = [3, 7, 3, 0, 5, 3, 10, 7]; // duplicates: 3 three times, 7 twice; rows 1, 2, 4, 6, 8, 9 unused
const labels = [7, 3, -100, 5, 3, -100, 7, 1];
const r = rng(7);
const init: Record<string, { shape: number[]; values: Float32Array }> = {
  embed: { shape: [V, D], values: Float32Array.from(randomArray(r, V * D)) },
  proj: { shape: [D, D], values: Float32Array.from(randomArray(r, D * D, 0.5)) },
  gamma: { shape: [D], values: Float32Array.from(randomArray(r, D, 0.5), (v) => 1 + v) },
  beta: { shape: [D], values: Float32Array.from(randomArray(r, D, 0.1)) },
  head: { shape: [V, D], values: Float32Array.from(randomArray(r, V * D)) },
};
const names = Object.keys(init);

type Result = Record<string, Float32Array>;

function model(p: Record<string, Tensor>) {
  const idsT = tf.tensor2d(ids, [B, T], 'int32');
  const h = tf.gather(p.embed, idsT); // [B, T, D]
  const x = layerNorm(linear(h, p.proj), p.gamma, p.beta); // [B, T, D]
  const scores = tf.div(matmul(x, x, false, true), Math.sqrt(D)); // [B, T, T]
  const attended = tf.add(x, matmul(tf.softmax(scores), x)); // [B, T, D]
  const logits = linear(attended, p.head); // [B, T, V]
  const flat = tf.reshape(logits, [B * T, V]);
  const loss = crossEntropyOneHot(flat, tf.tensor1d(labels, 'int32'));
  return { logits: flat, probs: tf.softmax(flat), loss };
}

async function run(backend: string): Promise<Result> {
  await initBackend(backend as Parameters<typeof initBackend>[0]);
  expect(tf.getBackend()).toBe(backend);
  return noLeaks(async () => {
    const params = names.map((n) => tf.tensor(init[n].values, init[n].shape));
    const forward = tf.tidy(() => {
      const { logits, probs, loss } = model(Object.fromEntries(names.map((n, i) => [n, params[i]])));
      return [logits, probs, loss];
    });
    const { value, grads } = tf.valueAndGrads((...ps: Tensor[]) => model(Object.fromEntries(names.map((n, i) => [n, ps[i]]))).loss as tf.Scalar)(params);
    const out: Result = {
      logits: (await forward[0].data()) as Float32Array,
      probs: (await forward[1].data()) as Float32Array,
      loss: (await forward[2].data()) as Float32Array,
      lossFromGrads: (await value.data()) as Float32Array,
    };
    for (let i = 0; i < names.length; i++) out[`d ${names[i]}`] = (await grads[i].data()) as Float32Array;
    tf.dispose([...params, ...forward, value, ...grads]);
    return out;
  });
}

let reference: Result;
// CI builds the addon (.ci/run installs g++), so there a native that does not start is a failure, not a skip.
const nativeWanted = process.env.UNLEARN_TEST_BACKEND === 'native' || !!process.env.CI || process.env.UNLEARN_REQUIRE_NATIVE === '1';
let nativeProblem: string | null = null;

beforeAll(async () => {
  reference = await run('cpu');
  nativeProblem = await initBackend('native').then(() => null, (e: Error) => e.message);
  if (nativeProblem) console.log(`backend parity: native not included — ${nativeProblem}`);
});

describe('backend parity with cpu (max |difference| ≤ 1e-4)', () => {
  it('the cpu result is itself right: loss equals a float64 cross-entropy of its logits; unused embedding rows get zero gradient', () => {
    const ce = crossEntropyRef(Float64Array.from(reference.logits), labels, V);
    expect(Math.abs(reference.loss[0] - ce)).toBeLessThan(1e-5);
    expect(reference.lossFromGrads[0]).toBe(reference.loss[0]);
    const dEmbed = reference['d embed'];
    for (let row = 0; row < V; row++) {
      const norm = Math.hypot(...dEmbed.subarray(row * D, row * D + D));
      if (ids.includes(row)) expect(norm, `row ${row}`).toBeGreaterThan(1e-4);
      else expect(norm, `row ${row}`).toBe(0);
    }
    for (const n of names) expect(Math.hypot(...reference[`d ${n}`]), n).toBeGreaterThan(1e-3);
  });

  const backends = ['wasm', 'webgpu', 'native'];
  it.for(backends)('%s agrees with cpu', async (backend, ctx) => {
    if (backend === 'native' && nativeProblem) {
      if (nativeWanted) throw new Error(`native is required here (CI, UNLEARN_TEST_BACKEND=native or UNLEARN_REQUIRE_NATIVE=1) but it did not start: ${nativeProblem}`);
      ctx.skip(`native did not start: ${nativeProblem}`);
    }
    const result = await run(backend);
    for (const [key, want] of Object.entries(reference)) {
      expect(result[key].length, key).toBe(want.length);
      expect(maxAbsDiff(result[key], want), `${backend} ${key}`).toBeLessThanOrEqual(1e-4);
    }
  });
});

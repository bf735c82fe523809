// Every gradient transformer training relies on, checked against central finite differences of an independent
// float64 reference (plain-JS loops in ./reference-f64.ts, ε = 1e-5, truncation error ~1e-10), on cpu and wasm.
// The loss is L = Σ w ⊙ f(x) with fixed random w, so the whole Jacobian-transpose product is checked, not one row.
// Tolerance: |g_tf − g_fd| ≤ 2e-5 + 2e-4·|g_fd| — float32 rounding on these small inputs is ~1e-6, a wrong gradient
// is off by O(1).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalSoftmax, geluTanh, initBackend, layerNorm as layerNormOp, linear, matmul } from '../src/index.js';
import { crossEntropyGatherNd, crossEntropyOneHot, layerNorm, rmsNorm } from './composites.js';
import { noLeaks, randomArray, rng, worstRatio } from './helpers.js';
import {
  crossEntropyRef, finiteDifferenceGrads, gatherRowsRef, layerNormRef, logSoftmaxRef, matmulRef, rmsNormRef, softmaxRef,
} from './reference-f64.js';

interface Input { shape: number[]; values: Float64Array }
interface GradCase {
  name: string;
  inputs: Input[];
  /** The op under test on float32 tensors made from `inputs`. */
  f: (xs: Tensor[]) => Tensor;
  /** The same function in float64. */
  ref: (xs: Float64Array[]) => Float64Array;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
let seed = 1;
const input = (shape: number[], scale = 1): Input => ({ shape, values: randomArray(rng(seed++), size(shape), scale) });

const cases: GradCase[] = [];

// Embedding lookup with duplicate ids: d table[i] sums the upstream gradient of every position holding id i.
{
  const ids = [1, 3, 1, 0, 3, 3, 4, 1];
  cases.push({
    name: 'gather axis 0 (embedding, duplicate ids)',
    inputs: [input([5, 3])],
    f: ([table]) => tf.gather(table, tf.tensor2d(ids, [2, 4], 'int32')),
    ref: ([table]) => gatherRowsRef(table, 3, ids),
  });
  const cols = [0, 2, 2, 4];
  cases.push({
    name: 'gather axis 1 (duplicate ids)',
    inputs: [input([3, 5])],
    f: ([x]) => tf.gather(x, tf.tensor1d(cols, 'int32'), 1),
    ref: ([x]) => Float64Array.from({ length: 12 }, (_, k) => x[Math.floor(k / 4) * 5 + cols[k % 4]]),
  });
  const ids2 = [4, 0, 4, 2]; // [2, 2] ids into axis 1 of x [2, 5, 3] → out [2, 2, 2, 3]
  cases.push({
    name: 'gather axis 1 of a rank-3 tensor with 2-D ids',
    inputs: [input([2, 5, 3])],
    f: ([x]) => tf.gather(x, tf.tensor2d(ids2, [2, 2], 'int32'), 1),
    ref: ([x]) => Float64Array.from({ length: 24 }, (_, k) => {
      const [o, t, i] = [Math.floor(k / 12), Math.floor(k / 3) % 4, k % 3];
      return x[o * 15 + ids2[t] * 3 + i];
    }),
  });
  const points = [[0, 1], [2, 3], [0, 1]];
  cases.push({
    name: 'gatherND (duplicate indices)',
    inputs: [input([3, 4])],
    f: ([x]) => tf.gatherND(x, tf.tensor2d(points, [3, 2], 'int32')),
    ref: ([x]) => Float64Array.from(points, ([i, j]) => x[i * 4 + j]),
  });
  const targets = [2, 0, 2]; // scatter 3 rows of 4 into a [3, 4] output; row 2 receives two updates (summed)
  cases.push({
    name: 'scatterND w.r.t. the updates (duplicate indices)',
    inputs: [input([3, 4])],
    f: ([updates]) => tf.scatterND(tf.tensor2d(targets, [3, 1], 'int32'), updates, [3, 4]),
    ref: ([updates]) => {
      const out = new Float64Array(12);
      targets.forEach((row, k) => { for (let j = 0; j < 4; j++) out[row * 4 + j] += updates[k * 4 + j]; });
      return out;
    },
  });
}

// matmul: all four transpose variants, rank 2 and rank 3 (batch 2), m = 3, k = 4, n = 2.
for (const rank of [2, 3]) {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const lead = rank === 3 ? [2] : [];
    const aShape = [...lead, ...(tA ? [4, 3] : [3, 4])];
    const bShape = [...lead, ...(tB ? [2, 4] : [4, 2])];
    cases.push({
      name: `matmul rank ${rank} transposeA=${tA} transposeB=${tB}`,
      inputs: [input(aShape), input(bShape)],
      f: ([a, b]) => matmul(a, b, tA, tB),
      ref: ([a, b]) => matmulRef(a, aShape, b, bShape, tA, tB).out,
    });
  }
}
cases.push({
  name: 'linear (rank-3 x, [out, in] weight, bias)',
  inputs: [input([2, 3, 4]), input([5, 4]), input([5])],
  f: ([x, w, b]) => linear(x, w, b),
  ref: ([x, w, b]) => matmulRef(x, [6, 4], w, [5, 4], false, true).out.map((v, i) => v + b[i % 5]),
});

cases.push({ name: 'softmax', inputs: [input([3, 5], 2)], f: ([x]) => tf.softmax(x), ref: ([x]) => softmaxRef(x, 5) });
cases.push({ name: 'logSoftmax', inputs: [input([3, 5], 2)], f: ([x]) => tf.logSoftmax(x), ref: ([x]) => logSoftmaxRef(x, 5) });
cases.push({
  name: 'layer norm composite',
  inputs: [input([2, 3, 4], 2), input([4]), input([4])],
  f: ([x, g, b]) => layerNorm(x, g, b, 1e-5),
  ref: ([x, g, b]) => layerNormRef(x, g, b, 1e-5),
});
// @unlearn/tensors' ops (composed tf ops on cpu and wasm; the native backend's fused kernels are checked against these
// in @unlearn/backend-native): LayerNorm, tanh-GELU, the scaled causal softmax with 2 cached keys (tq 3, tk 5)
cases.push({
  name: 'layerNorm op',
  inputs: [input([2, 3, 4], 2), input([4]), input([4])],
  f: ([x, g, b]) => layerNormOp(x, g, b, 1e-5),
  ref: ([x, g, b]) => layerNormRef(x, g, b, 1e-5),
});
cases.push({
  name: 'geluTanh op', inputs: [input([3, 7], 3)], f: ([x]) => geluTanh(x),
  ref: ([x]) => x.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))),
});
cases.push({
  name: 'causalSoftmax op', inputs: [input([2, 3, 5], 3)], f: ([s]) => causalSoftmax(s, 0.6),
  ref: ([s]) => {
    const out = new Float64Array(s.length);
    for (let r = 0; r < 6; r++) {
      const visible = (r % 3) + 5 - 3 + 1; // query i sees keys j ≤ i + tk − tq
      const row = s.subarray(r * 5, r * 5 + visible).map((v) => v * 0.6);
      out.set(softmaxRef(row, visible), r * 5);
    }
    return out;
  },
});
cases.push({
  name: 'RMS norm composite',
  inputs: [input([2, 3, 4], 2), input([4])],
  f: ([x, w]) => rmsNorm(x, w, 1e-6),
  ref: ([x, w]) => rmsNormRef(x, w, 1e-6),
});
{
  const labels = [2, -100, 0, 4, -100, 2];
  cases.push({
    name: 'cross-entropy with -100 ignored labels (one-hot pick)',
    inputs: [input([6, 5], 2)],
    f: ([logits]) => crossEntropyOneHot(logits, tf.tensor1d(labels, 'int32')),
    ref: ([logits]) => Float64Array.of(crossEntropyRef(logits, labels, 5)),
  });
  cases.push({
    name: 'cross-entropy with -100 ignored labels (gatherND pick)',
    inputs: [input([6, 5], 2)],
    f: ([logits]) => crossEntropyGatherNd(logits, tf.tensor1d(labels, 'int32')),
    ref: ([logits]) => Float64Array.of(crossEntropyRef(logits, labels, 5)),
  });
}
// A mask computed from the differentiated tensor itself: needs the zero gradient registered for Greater.
cases.push({
  name: 'where(greater(x, 0)) (leaky ReLU from a comparison)',
  inputs: [input([3, 4])],
  f: ([x]) => tf.where(tf.greater(x, 0), x, tf.mul(x, 0.1)),
  ref: ([x]) => x.map((v) => (v > 0 ? v : 0.1 * v)),
});

describe.each(['cpu', 'wasm'] as const)('gradients on %s match float64 finite differences', (backend) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await initBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    const reference = c.ref(c.inputs.map((i) => i.values));
    const weights = randomArray(rng(1000 + reference.length), reference.length);
    const { forward, grads } = await noLeaks(async () => {
      const xs = c.inputs.map((i) => tf.tensor(Float32Array.from(i.values), i.shape));
      const w = tf.tensor(Float32Array.from(weights), reference.length === 1 ? [] : undefined);
      const out = tf.tidy(() => c.f(xs));
      const { value, grads: gs } = tf.valueAndGrads((...args: Tensor[]) => tf.sum(tf.mul(tf.reshape(c.f(args), [-1]), tf.reshape(w, [-1]))) as tf.Scalar)(xs);
      const result = { forward: await out.data(), grads: await Promise.all(gs.map((g) => g.data())) };
      tf.dispose([...xs, w, out, value, ...gs]);
      return result;
    });
    expect(worstRatio(forward, reference, 1e-5, 1e-5), 'forward differs from the float64 reference').toBeLessThanOrEqual(1);
    const loss = (xs: Float64Array[]) => c.ref(xs).reduce((s, v, i) => s + v * weights[i], 0);
    const numeric = finiteDifferenceGrads(loss, c.inputs.map((i) => Float64Array.from(i.values)));
    numeric.forEach((g, k) => {
      expect(grads[k].length).toBe(g.length);
      expect(worstRatio(grads[k], g, 2e-5, 2e-4), `gradient of input ${k}`).toBeLessThanOrEqual(1);
    });
  });
});

describe('gradient registrations', () => {
  it('sums duplicate ids into the embedding gradient exactly (counts per row)', async () => {
    await initBackend('wasm');
    await noLeaks(async () => {
      const table = tf.zeros([4, 2]);
      const ids = tf.tensor1d([3, 3, 3, 0], 'int32');
      const g = tf.grad((t: Tensor) => tf.sum(tf.gather(t, ids)))(table);
      expect(Array.from(await g.data())).toEqual([1, 1, 0, 0, 0, 0, 3, 3]);
      tf.dispose([table, ids, g]);
    });
  });
  it('a mismatched matmul throws naming both shapes', async () => {
    await noLeaks(() => {
      const a = tf.zeros([2, 3]);
      const b = tf.zeros([4, 2]);
      expect(() => matmul(a, b)).toThrow('matmul: inner dimensions differ (3 vs 4) for [2,3] and [4,2]');
      const a3 = tf.zeros([2, 2, 3]);
      expect(() => matmul(a3, b)).toThrow(/two rank-2 or two rank-3/);
      tf.dispose([a, b, a3]);
    });
  });
});

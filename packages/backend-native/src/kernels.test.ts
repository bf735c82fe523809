// Parity of every replaced kernel with tfjs-backend-cpu (within 1e-4), over random shapes with broadcasting and
// transposes, on every instruction-set build this CPU runs and on 1 and 2 threads.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '@unlearn/tensors';
import { loadAddon, registerNativeBackend } from './index.js';
import { addonBuilt as built, useNativeBackend } from './test-utils/native-suite.js';
import { expectParity, input, randn, runOn } from './test-utils/parity.js';

describe.skipIf(!built)('native kernels match tfjs-backend-cpu', () => {
  const suite = useNativeBackend();

  // [a shape, b shape, transposeA, transposeB]
  const matmulCases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[67, 130], [130, 45], false, false], // edge tiles in every direction, k > one 128 block
    [[300, 70], [33, 70], false, true],
    [[3, 17, 9], [3, 9, 21], false, false],
    [[4, 33, 16], [4, 40, 16], false, true], // attention scores q·kᵀ
    [[4, 16, 33], [4, 16, 40], true, false],
    [[2, 3, 10, 6], [2, 3, 6, 4], false, false], // rank 4
    [[3, 10, 6], [6, 4], false, false], // rank-3 × rank-2: b broadcast over the batch
    [[1, 10, 6], [5, 6, 4], false, false], // a broadcast over the batch
    [[1, 1], [1, 1], false, false],
  ];

  it.each(['threads=1', 'threads=2'])('BatchMatMul with transposes and batch broadcasting (%s)', async (t) => {
    for (const isa of suite.isas()) {
      loadAddon().configure({ isa, threads: t === 'threads=1' ? 1 : 2 });
      for (const [i, [sa, sb, ta, tb]] of matmulCases.entries()) {
        await expectParity(`${isa} matMul ${sa}×${sb} ${ta}/${tb}`, [input(sa, 10 + i), input(sb, 50 + i)],
          (a, b) => tf.matMul(a, b, ta, tb));
      }
    }
  });

  it('a large matmul split across threads equals the single-thread result and cpu', async () => {
    loadAddon().configure({ threads: 2 });
    await expectParity('matMul 256×192×200', [input([256, 200], 1), input([200, 192], 2)], (a, b) => tf.matMul(a, b));
  });

  it('_FusedMatMul: bias and relu / sigmoid / linear epilogues', async () => {
    for (const isa of suite.isas()) {
      loadAddon().configure({ isa });
      for (const activation of ['linear', 'relu', 'sigmoid'] as const) {
        await expectParity(`${isa} fused ${activation}`, [input([37, 20], 3), input([20, 45], 4), input([45], 5)],
          (a, b, bias) => tf.fused.matMul({ a, b, bias, activation }));
        await expectParity(`${isa} fused ${activation} transposed`, [input([20, 37], 6), input([45, 20], 7), input([1, 45], 8)],
          (a, b, bias) => tf.fused.matMul({ a, b, bias, activation, transposeA: true, transposeB: true }));
      }
      // a bias that broadcasts over rows too goes to the cpu kernel: still right
      await expectParity(`${isa} fused bias [37,45]`, [input([37, 20], 9), input([20, 45], 10), input([37, 45], 11)],
        (a, b, bias) => tf.fused.matMul({ a, b, bias, activation: 'relu' }));
    }
  });

  const broadcastPairs: [number[], number[]][] = [
    [[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[5], []], [[], [5]], [[1], [7, 1]],
    [[3, 1, 5], [1, 4, 1]], [[300, 257], [257]], [[300, 1], [300, 257]], [[2, 3, 1, 5], [3, 4, 1]], [[200, 300], [200, 300]],
  ];
  const binaryOps: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
    add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div, maximum: tf.maximum, minimum: tf.minimum, squaredDifference: tf.squaredDifference,
  };

  it('binary ops with broadcasting', async () => {
    for (const isa of suite.isas()) {
      loadAddon().configure({ isa, threads: 2 });
      for (const [i, [sa, sb]] of broadcastPairs.entries()) {
        for (const [name, op] of Object.entries(binaryOps)) {
          // divisors kept away from zero so the relative comparison is meaningful
          const b = name === 'div' ? { shape: sb, values: randn(sb.reduce((p, q) => p * q, 1), 70 + i).map((v) => v + Math.sign(v) + 0.5) } : input(sb, 70 + i);
          await expectParity(`${isa} ${name} ${sa} ${sb}`, [input(sa, 30 + i), b], op);
        }
      }
    }
  });

  it('unary math over its whole range (exp to overflow, log at 0, tanh in both branches)', async () => {
    const wide = randn(70_000, 5, 30); // |x| up to ~150: exp overflows to inf, under- to 0
    const positive = Float32Array.from(randn(70_000, 6, 3), (v) => Math.abs(v));
    positive[0] = 0;
    positive[1] = 1e-30;
    const small = randn(70_000, 7, 0.4);
    const cases: [string, Float32Array, (x: tf.Tensor) => tf.Tensor][] = [
      ['exp', wide, tf.exp], ['exp small', small, tf.exp], ['tanh', wide, tf.tanh], ['tanh small', small, tf.tanh],
      ['log', positive, tf.log], ['sqrt', positive, tf.sqrt], ['rsqrt', positive.map((v) => v + 0.1), tf.rsqrt],
      ['neg', wide, tf.neg], ['square', small, tf.square], ['relu', wide, tf.relu], ['sigmoid', wide, tf.sigmoid],
      ['abs', wide, tf.abs], ['reciprocal', positive.map((v) => v + 0.5), tf.reciprocal],
    ];
    for (const isa of suite.isas()) {
      loadAddon().configure({ isa, threads: 2 });
      for (const [name, values, op] of cases) {
        await expectParity(`${isa} ${name}`, [{ shape: [values.length], values }], op);
      }
    }
  });

  it('Sum / Max / Mean over contiguous and scattered axes, with and without keepDims', async () => {
    const shape = [4, 5, 6, 7];
    const axesCases: (number | number[] | null)[] = [null, -1, 0, 1, [1, 2], [0, 1], [2, 3], [0, 2], [0, 3], [1, 3], [0, 1, 2, 3], []];
    for (const axis of axesCases) {
      for (const keepDims of [false, true]) {
        await expectParity(`reduce ${JSON.stringify(axis)} keepDims=${keepDims}`, [input(shape, 21)], (x) => [
          tf.sum(x, axis ?? undefined, keepDims), tf.max(x, axis ?? undefined, keepDims), tf.mean(x, axis ?? undefined, keepDims),
        ]);
      }
    }
    await expectParity('reduce large rows and columns', [input([300, 1030], 22)], (x) => [tf.sum(x, -1), tf.sum(x, 0), tf.max(x, 1), tf.mean(x, 0)]);
  });

  it('Softmax and logSoftmax over the last axis', async () => {
    for (const isa of suite.isas()) {
      loadAddon().configure({ isa, threads: 2 });
      await expectParity(`${isa} softmax`, [input([6, 9, 130], 31, 5)], (x) => [tf.softmax(x), tf.logSoftmax(x)]);
      await expectParity(`${isa} softmax wide`, [input([40, 4096], 32, 10)], (x) => [tf.softmax(x), tf.logSoftmax(x)]);
    }
  });

  it('Transpose for any permutation', async () => {
    const cases: [number[], number[]][] = [
      [[300, 257], [1, 0]], [[5, 70, 33], [0, 2, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 3, 4, 5], [3, 1, 0, 2]],
      [[2, 3, 4, 5], [0, 1, 2, 3]], [[1, 6, 1, 7], [3, 2, 1, 0]], [[6, 5, 4], [2, 0, 1]], [[6, 5, 4], [1, 2, 0]],
    ];
    for (const [shape, perm] of cases) {
      await expectParity(`transpose ${shape} ${perm}`, [input(shape, 41)], (x) => tf.transpose(x, perm));
    }
  });

  it('Slice, split, concat, pad and embedding gathers', async () => {
    await expectParity('split/concat', [input([300, 96], 51)], (x) => {
      const parts = tf.split(x, 3, 1);
      const rows = tf.split(x, [100, 150, 50], 0);
      return [...parts, ...rows, tf.concat(parts, 1), tf.concat([rows[2], rows[0]], 0), tf.concat(tf.split(x, 4, 1).reverse(), 1)];
    });
    await expectParity('slices', [input([4, 5, 6], 52)], (x) => [
      tf.slice(x, [1, 0, 0], [2, 5, 6]), tf.slice(x, [0, 2, 0], [4, 3, 6]), tf.slice(x, [0, 0, 3], [4, 5, 2]),
      tf.slice(x, [1, 2, 3], [2, 2, 2]), // several partial axes: the cpu kernel
    ]);
    await expectParity('pads', [input([3, 4, 5], 55), input([7], 56), input([2, 3, 2, 4], 57)], (x, v, w) => [
      tf.pad(x, [[0, 0], [0, 1], [0, 0]]), // the label shift's gradient
      tf.pad(x, [[1, 2], [0, 3], [2, 1]], -1.5), tf.pad(v, [[3, 0]], 7), tf.pad(w, [[1, 0], [0, 2], [1, 1], [0, 0]]),
    ]);
    // and the gradient that uses it: slice's
    await expectParity('slice gradient', [input([2, 6, 5], 58)], (x) => tf.grad((y: tf.Tensor) => tf.sum(tf.mul(tf.slice(y, [0, 0, 0], [2, 5, 5]), 2)))(x));
    const ids = { shape: [2, 5], values: Int32Array.from([3, 0, 9, 3, 1, 7, 7, 2, 5, 8]), dtype: 'int32' as const };
    await expectParity('gather', [input([10, 6], 53), ids], (table, idx) => tf.gather(table, idx));
    const rows = { shape: [10, 1], values: Int32Array.from([3, 0, 9, 3, 1, 7, 7, 2, 3, 8]), dtype: 'int32' as const };
    await expectParity('scatterND (duplicates summed)', [rows, input([10, 6], 54)], (idx, upd) => tf.scatterND(idx, upd, [12, 6]));
    // an embedding-sized gradient (zero fill split across threads), twice: the second output is a recycled pool buffer
    // holding the first one's values, so every untouched row must be zeroed again
    const many = { shape: [64, 1], values: Int32Array.from({ length: 64 }, (_, i) => (i * 37) % 400), dtype: 'int32' as const };
    await expectParity('scatterND into [400, 300]', [many, input([64, 300], 59)], (idx, upd) => {
      const first = tf.scatterND(idx, upd, [400, 300]);
      const doubled = tf.mul(first, 2);
      first.dispose();
      return [doubled, tf.scatterND(tf.reverse(idx, 0), upd, [400, 300])];
    });
  });

  it('Fill, ZerosLike, OnesLike, OneHot and Cast', async () => {
    const ids = { shape: [3, 4], values: Int32Array.from([0, 5, 9, -1, 12, 3, 3, 7, 1, 0, 2, 8]), dtype: 'int32' as const };
    await expectParity('creation', [input([300, 70], 81), ids], (x, idx) => [
      tf.zerosLike(x), tf.onesLike(x), tf.fill([40, 600], 2.5), tf.oneHot(idx, 10), tf.oneHot(idx, 10, 2, -1, 'float32'),
      tf.cast(idx, 'float32'), tf.cast(tf.greater(x, 0), 'float32'), tf.mul(tf.oneHot(idx, 10), tf.ones([3, 4, 10])),
    ]);
  });

  it('Multinomial draws what tfjs-backend-cpu draws for the same seed', async () => {
    // probabilities given directly: the float32 CDF is summed identically, so every sample must be equal
    const probs = Float32Array.from(randn(300 * 50, 91), (v) => Math.abs(v));
    for (let r = 0; r < 300; r++) {
      const row = probs.subarray(r * 50, r * 50 + 50);
      const sum = row.reduce((a, b) => a + b, 0);
      row.forEach((v, i) => { row[i] = v / sum; });
    }
    await expectParity('multinomial normalized', [{ shape: [300, 50], values: probs }], (p) => tf.multinomial(p as tf.Tensor2D, 3, 42, true), 0);
    // from logits the softmax differs in the last bits: nearly all samples agree, all are valid events
    const cpu = await runOn('cpu', [input([500, 40], 92, 2)], (l) => tf.multinomial(l as tf.Tensor2D, 2, 7));
    const native = await runOn('native', [input([500, 40], 92, 2)], (l) => tf.multinomial(l as tf.Tensor2D, 2, 7));
    const same = native.values[0].filter((v, i) => v === cpu.values[0][i]).length;
    expect(same / 1000).toBeGreaterThan(0.99);
    expect(native.values[0].every((v) => Number.isInteger(v) && v >= 0 && v < 40)).toBe(true);
  });

  it('gradients of the replaced kernels match (BatchMatMul transposes, softmax, reductions, broadcasting)', async () => {
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
      const s = tf.softmax(tf.matMul(a, b, false, true));
      return tf.sum(tf.mul(tf.tanh(tf.add(tf.matMul(s, c), tf.mean(c, 1, true))), tf.exp(tf.neg(tf.square(tf.max(c, 1, true))))));
    };
    await expectParity('grads', [input([3, 12, 8], 61), input([3, 10, 8], 62), input([3, 10, 8], 63)], (a, b, c) =>
      tf.grads(f)([a, b, c]));
  });
});

describe('addon loading', () => {
  it('a missing addon is a one-line error naming the file and the fix', () => {
    let message = '';
    try {
      loadAddon('/nonexistent/unlearn_native.node');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('/nonexistent/unlearn_native.node is missing');
    expect(message).toContain('pnpm --filter @unlearn/backend-native build');
    expect(message.includes('\n')).toBe(false);
  });

  it.skipIf(!built)('registerNativeBackend reports the instruction set and threads, and is idempotent', () => {
    const first = registerNativeBackend();
    const second = registerNativeBackend();
    expect(['avx512', 'avx2', 'generic']).toContain(first.isa);
    expect(first.threads).toBeGreaterThanOrEqual(1);
    expect(second).toEqual(first);
    expect(tf.findBackendFactory('native')).toBeTruthy();
  });
});

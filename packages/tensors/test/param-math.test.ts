// Name-keyed tensor-map arithmetic. Expected numbers are worked by hand in the comments.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, paramMath } from '../src/index.js';
import { noLeaks } from './helpers.js';

const { add, axpy, clone, disposeMap, dot, globalNorm, mapTensors, scale, sub, zerosLike, zipTensors } = paramMath;

const values = async (m: Map<string, Tensor>) =>
  Object.fromEntries(await Promise.all([...m].map(async ([k, t]) => [k, Array.from(await t.data())] as const)));

/** a = {w: [[1, 2], [3, 4]], b: [0.5]}, b = {w: [[1, -1], [2, 0]], b: [2]} */
function pair() {
  const a = new Map<string, Tensor>([['w', tf.tensor2d([[1, 2], [3, 4]])], ['b', tf.tensor1d([0.5])]]);
  const b = new Map<string, Tensor>([['w', tf.tensor2d([[1, -1], [2, 0]])], ['b', tf.tensor1d([2])]]);
  return { a, b, dispose: () => (disposeMap(a), disposeMap(b)) };
}

describe('paramMath', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('add, sub, scale, axpy compute entry-wise per name', async () => {
    await noLeaks(async () => {
      const { a, b, dispose } = pair();
      const results = [add(a, b), sub(a, b), scale(a, -2), axpy(a, 0.5, b)];
      const [s, d, sc, ax] = await Promise.all(results.map(values));
      expect(s).toEqual({ w: [2, 1, 5, 4], b: [2.5] });
      expect(d).toEqual({ w: [0, 3, 1, 4], b: [-1.5] });
      expect(sc).toEqual({ w: [-2, -4, -6, -8], b: [-1] });
      // y + 0.5·x: [1+0.5, 2−0.5, 3+1, 4+0], [0.5+1]
      expect(ax).toEqual({ w: [1.5, 1.5, 4, 4], b: [1.5] });
      // Inputs untouched.
      expect(await values(a)).toEqual({ w: [1, 2, 3, 4], b: [0.5] });
      results.forEach(disposeMap);
      dispose();
    });
  });

  it('dot sums over every name; globalNorm is the norm of the whole map', async () => {
    await noLeaks(async () => {
      const { a, b, dispose } = pair();
      const d = dot(a, b);
      // w: 1·1 + 2·(−1) + 3·2 + 4·0 = 5; b: 0.5·2 = 1 → 6
      expect(await d.data()).toEqual(Float32Array.of(6));
      const n = globalNorm(a);
      // √(1 + 4 + 9 + 16 + 0.25) = √30.25 = 5.5
      expect((await n.data())[0]).toBeCloseTo(5.5, 6);
      expect(n.rank).toBe(0);
      tf.dispose([d, n]);
      dispose();
    });
  });

  it('works on a ParamMap of tf.Variables and returns plain tensors the caller owns', async () => {
    await noLeaks(async () => {
      const params = new Map([['w', tf.tidy(() => tf.variable(tf.tensor1d([3, 4]), true, 'pm-w'))]]);
      const z = zerosLike(params);
      const c = clone(params);
      tf.tidy(() => params.get('w')!.assign(tf.tensor1d([0, 0])));
      // The clone is a snapshot: assigning the variable afterwards does not change it.
      expect(await values(c)).toEqual({ w: [3, 4] });
      expect(await values(z)).toEqual({ w: [0, 0] });
      expect(c.get('w')).not.toBeInstanceOf(tf.Variable);
      disposeMap(z);
      disposeMap(c);
      disposeMap(params);
      expect(params.size).toBe(0);
    });
  });

  it('mismatched names throw one line listing the names on each side', async () => {
    await noLeaks(() => {
      const a = new Map([['x', tf.scalar(1)], ['y', tf.scalar(2)]]);
      const b = new Map([['x', tf.scalar(1)], ['z', tf.scalar(2)]]);
      for (const op of [() => add(a, b), () => sub(a, b), () => axpy(a, 1, b), () => dot(a, b)]) {
        expect(op).toThrow(/tensor maps hold different names \(only in the first: y; only in the second: z\)$/);
      }
      expect(() => dot(a, b)).toThrow(/^dot: /);
      disposeMap(a);
      disposeMap(b);
    });
  });

  it('mismatched shapes throw naming the tensor and both shapes (no silent broadcasting)', async () => {
    await noLeaks(() => {
      const a = new Map([['w', tf.zeros([2, 3])]]);
      const b = new Map([['w', tf.zeros([3])]]);
      expect(() => add(a, b)).toThrow('add: "w" has shape [2,3] in the first map but [3] in the second');
      disposeMap(a);
      disposeMap(b);
    });
  });

  it('lists at most eight names then the count', async () => {
    await noLeaks(() => {
      const a = new Map(Array.from({ length: 12 }, (_, i) => [`p${i}`, tf.scalar(i)] as const));
      const b = new Map<string, Tensor>();
      expect(() => sub(a, b)).toThrow(/only in the first: p0, p1, p2, p3, p4, p5, p6, p7, … \(12 in all\)\)$/);
      disposeMap(a);
    });
  });

  it('mapTensors tidies intermediates, clones an identity result, and cleans up when fn throws', async () => {
    await noLeaks(async () => {
      const a = new Map([['u', tf.tensor1d([1, 2])], ['v', tf.tensor1d([3])]]);
      const same = mapTensors(a, (t) => t);
      disposeMap(same);
      expect(a.get('u')!.isDisposed).toBe(false);
      const sq = mapTensors(a, (t, name) => (name === 'u' ? tf.add(tf.square(t), tf.scalar(1)) : tf.neg(t)));
      expect(await values(sq)).toEqual({ u: [2, 5], v: [-3] });
      disposeMap(sq);
      expect(() => mapTensors(a, (t, name) => {
        if (name === 'v') throw new Error('boom');
        return tf.mul(t, 2);
      })).toThrow('boom');
      const names: string[] = [];
      const z = zipTensors('pairs', a, a, (x, y, name) => (names.push(name), tf.mul(x, y)));
      expect(names).toEqual(['u', 'v']);
      expect(await values(z)).toEqual({ u: [1, 4], v: [9] });
      disposeMap(z);
      disposeMap(a);
    });
  });
});

// Global top-k: quickselect against a full sort, exact counts, deterministic ties, NaN rejection. No tensors here.
import { describe, expect, it } from 'vitest';
import { keepCount, kthLargest, selectTopK } from './global-top-k.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

describe('kthLargest', () => {
  it('agrees with a full sort, with and without many duplicates', () => {
    const rand = lcg(11);
    for (const [n, levels] of [[1, 0], [2, 0], [17, 0], [1000, 0], [1000, 3], [4096, 1], [5000, 50]] as const) {
      const values = Float32Array.from({ length: n }, () => (levels ? Math.floor(rand() * levels) : rand() * 2 - 1));
      const sorted = Array.from(values).sort((a, b) => b - a);
      for (const k of [1, Math.ceil(n / 3), Math.ceil(n / 2), n]) {
        expect(kthLargest(Float32Array.from(values), k), `n=${n} levels=${levels} k=${k}`).toBe(sorted[k - 1]);
      }
    }
    expect(() => kthLargest(new Float32Array(3), 4)).toThrowError(/^kthLargest: k = 4 is outside 1\.\.3$/);
  });
});

describe('selectTopK', () => {
  it('keeps exactly k across tensors; ties at the threshold go to the earliest tensor, then flat index', () => {
    const scores = new Map([
      ['a', Float32Array.from([0.5, 2, 0.5])],
      ['b', Float32Array.from([0.5, 3, 0.1])],
      ['c', Float32Array.from([0.5])],
    ]);
    const pick = (k: number) => Object.fromEntries([...selectTopK(scores, k)].map(([n, s]) => [n, Array.from(s)]));
    expect(pick(0)).toEqual({ a: [0, 0, 0], b: [0, 0, 0], c: [0] });
    expect(pick(1)).toEqual({ a: [0, 0, 0], b: [0, 1, 0], c: [0] });
    expect(pick(2)).toEqual({ a: [0, 1, 0], b: [0, 1, 0], c: [0] });
    expect(pick(3)).toEqual({ a: [1, 1, 0], b: [0, 1, 0], c: [0] }); // four 0.5s tie: the first one wins
    expect(pick(5)).toEqual({ a: [1, 1, 1], b: [1, 1, 0], c: [0] });
    expect(pick(6)).toEqual({ a: [1, 1, 1], b: [1, 1, 0], c: [1] });
    expect(pick(7)).toEqual({ a: [1, 1, 1], b: [1, 1, 1], c: [1] });
  });

  it('all-equal scores keep the first k in order, at any size', () => {
    const scores = new Map([['x', new Float32Array(1000).fill(7)], ['y', new Float32Array(500).fill(7)]]);
    const sel = selectTopK(scores, 1200);
    expect(sel.get('x')!.every((v) => v === 1)).toBe(true);
    expect(Array.from(sel.get('y')!).reduce((a, b) => a + b, 0)).toBe(200);
    expect(sel.get('y')!.slice(0, 200).every((v) => v === 1)).toBe(true);
  });

  it('names a NaN score; keepCount rounds half up and refuses 0 entries', () => {
    expect(() => selectTopK(new Map([['w', Float32Array.from([1, NaN])]]), 1)).toThrowError(/^score of "w" is NaN at flat index 1/);
    expect(keepCount(0.5, 5)).toBe(3);
    expect(keepCount(1, 7)).toBe(7);
    expect(() => keepCount(0.01, 10)).toThrowError(/rounds to 0 entries/);
    expect(() => keepCount(-0.1, 10)).toThrowError(/^keep must be a fraction in \(0, 1\], got -0\.1$/);
  });
});

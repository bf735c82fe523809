import { describe, expect, it } from 'vitest';
import { relearnCheckpoints, seededSlice } from '../src/index.js';

describe('relearn plan', () => {
  it('checkpoints at 0, k/4, k/2, k', () => {
    expect(relearnCheckpoints(8)).toEqual([0, 2, 4, 8]);
    expect(relearnCheckpoints(2)).toEqual([0, 1, 2]); // round(0.5) = 1 = round(1)
    expect(relearnCheckpoints(10, [5, 10])).toEqual([0, 5, 10]);
    expect(() => relearnCheckpoints(4, [5])).toThrow(/^relearn: checkpoint 5 is not a step in \[0, 4\]$/);
    expect(() => relearnCheckpoints(0)).toThrow(/steps must be a positive integer/);
  });
  it('draws the same distinct slice for the same seed, another for another seed', () => {
    const a = seededSlice(40, 10, 3);
    expect(seededSlice(40, 10, 3)).toEqual(a);
    expect(new Set(a).size).toBe(10);
    expect(a.every((i) => i >= 0 && i < 40)).toBe(true);
    expect(seededSlice(40, 10, 4)).not.toEqual(a);
    expect(seededSlice(5, 10, 0).sort()).toEqual([0, 1, 2, 3, 4]);
  });
});

import { describe, expect, it } from 'vitest';
import { deriveSeed, tfjsSeed } from './index.js';

describe('tfjsSeed', () => {
  it('is never falsy: seed 0, stream 0 (what tfjs turns into Math.random()) gives a fixed positive integer', () => {
    expect(tfjsSeed(0, 0)).toBe(deriveSeed(0, 'tfjs', 0));
    expect(tfjsSeed(0, 0)).toBeGreaterThan(0);
    expect(tfjsSeed(0)).toBe(tfjsSeed(0, 0));
    const seen = new Set<number>();
    for (let seed = -50; seed < 200; seed++) {
      for (let k = 0; k < 40; k++) {
        const s = tfjsSeed(seed, k);
        expect(Number.isInteger(s) && s >= 1 && s < 2 ** 32).toBe(true);
        seen.add(s);
      }
    }
    // distinct (seed, k) pairs give distinct streams (a 32-bit hash: no collision expected among 10,000)
    expect(seen.size).toBe(250 * 40);
  });

  it('refuses seeds that are not integers instead of passing them on', () => {
    expect(() => tfjsSeed(Number.NaN)).toThrow('tfjsSeed: seed must be an integer, got NaN');
    expect(() => tfjsSeed(0.5)).toThrow('tfjsSeed: seed must be an integer, got 0.5');
    expect(() => tfjsSeed(1, Number.POSITIVE_INFINITY)).toThrow('stream index must be an integer');
  });
});

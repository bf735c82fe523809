// Q, R and HM(Q, R), each number derived by hand in the comment beside it.
import { describe, expect, it } from 'vitest';
import { quantizationScore, relearningScore, robustnessScore } from '../src/index.js';

describe('quantizationScore Q = 1 − |a − b| / (|b| + |a|)', () => {
  it('is 1 when nothing moves, including 0 → 0', () => {
    expect(quantizationScore(0.3, 0.3)).toBe(1);
    expect(quantizationScore(0, 0)).toBe(1); // 0/0 defined as no change
  });
  it('falls with the change, symmetric in before/after', () => {
    expect(quantizationScore(0.2, 0.6)).toBeCloseTo(1 - 0.4 / 0.8, 15); // 0.5
    expect(quantizationScore(0.6, 0.2)).toBeCloseTo(0.5, 15);
    expect(quantizationScore(0.21, 0.83)).toBeCloseTo(1 - 0.62 / 1.04, 15); // Zhang et al.'s 21% → 83%: ≈ 0.404
    expect(quantizationScore(0, 0.5)).toBe(0); // from nothing to something: 1 − 0.5/0.5
    expect(quantizationScore(-1, 1)).toBe(0); // |1 − (−1)| / 2 = 1
  });
  it('is null when a value is missing', () => {
    expect(quantizationScore(null, 0.2)).toBeNull();
    expect(quantizationScore(0.2, Number.NaN)).toBeNull();
  });
});

describe('relearningScore R = min(Δret / Δunl, 1)', () => {
  it('is 1 when the unlearned model is the retain-only model (same before, same after)', () => {
    expect(relearningScore({ before: 0.1, after: 0.35 }, { before: 0.1, after: 0.35 })).toBe(1);
    expect(relearningScore({ before: 0.1, after: 0.1 }, { before: 0.1, after: 0.1 })).toBe(1); // no movement at all
  });
  it('is Δret / Δunl when the unlearned model recovers faster', () => {
    // Δunl = 0.6 − 0.1 = 0.5, Δret = 0.3 − 0.2 = 0.1 → 0.2
    expect(relearningScore({ before: 0.1, after: 0.6 }, { before: 0.2, after: 0.3 })).toBeCloseTo(0.2, 15);
  });
  it('is 0 when the retain-only model does not move but the unlearned one does; 1 when it recovers no more', () => {
    expect(relearningScore({ before: 0.1, after: 0.6 }, { before: 0.2, after: 0.15 })).toBe(0);
    expect(relearningScore({ before: 0.1, after: 0.15 }, { before: 0.2, after: 0.4 })).toBe(1); // 0.05 ≤ 0.2
    expect(relearningScore({ before: 0.3, after: 0.2 }, { before: 0.2, after: 0.2 })).toBe(1); // it forgets more
  });
  it('is null when a value is missing', () => {
    expect(relearningScore({ before: 0.1, after: null }, { before: 0.2, after: 0.3 })).toBeNull();
  });
});

describe('robustnessScore HM(Q, R) = 2QR / (Q + R)', () => {
  it('is the harmonic mean', () => {
    expect(robustnessScore(1, 1)).toBe(1);
    expect(robustnessScore(0.5, 1)).toBeCloseTo(2 * 0.5 / 1.5, 15); // 2/3
    expect(robustnessScore(0, 0.9)).toBe(0);
    expect(robustnessScore(0.5, null)).toBeNull();
  });
});

// Q, the OpenUnlearning robustness score under quantization (Dorna et al. 2025, arXiv 2506.12618, §4 "Robustness"), in
// the symmetric form the issue states:  Q = 1 − |m_after − m_before| / (|m_before| + |m_after|)  ∈ [0, 1]
// — 1 when quantization leaves the metric where it was, falling to 0 as either value dwarfs the other.
// 0/0 (the metric is 0 before and after) is no change: Q = 1. A missing value gives null.

export function quantizationScore(before: number | null | undefined, after: number | null | undefined): number | null {
  if (typeof before !== 'number' || typeof after !== 'number' || !Number.isFinite(before) || !Number.isFinite(after)) return null;
  const denom = Math.abs(before) + Math.abs(after);
  if (denom === 0) return 1;
  return 1 - Math.abs(after - before) / denom;
}

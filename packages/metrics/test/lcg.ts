// The deterministic sample generator shared with fixtures/make_stats.py (`lcg`): 32-bit LCG, values in [0, scale);
// with `decimals`, floored to that many places (ties on purpose). Same IEEE operations in the same order as the
// Python side, so both produce identical doubles.
export interface LcgSpec {
  seed: number;
  n: number;
  scale: number;
  decimals?: number | null;
}

export function lcgSample(spec: LcgSpec): number[] {
  const out: number[] = [];
  let s = spec.seed >>> 0;
  for (let i = 0; i < spec.n; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    const v = (s / 4294967296) * spec.scale;
    out.push(spec.decimals == null ? v : Math.floor(v * 10 ** spec.decimals) / 10 ** spec.decimals);
  }
  return out;
}

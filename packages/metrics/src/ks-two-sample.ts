// Two-sample Kolmogorov–Smirnov test, a port of scipy 1.10 `scipy.stats.ks_2samp` (method 'auto' | 'exact' | 'asymp').
// Exact p-values follow Hodges (1958) lattice-path counting as scipy implements it (the 1−p "inside method" recursion of
// Viehmann 2021 for two-sided unequal sizes, a closed Horner form for n1 = n2); 'asymp' uses the exact one-sample
// distribution kstwo at n = round(n1·n2/(n1+n2)) (two-sided) or Hodges' eq. 5.3 (one-sided).
// TOFU's forget quality is this test's p-value (Maini et al. 2024, §2.5).
import { kolmogorovSf } from './kolmogorov-distribution.js';

export type KsAlternative = 'two-sided' | 'less' | 'greater';
export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsResult {
  /** D (for 'exact', rounded to the lattice h / lcm(n1, n2) exactly as scipy returns it). */
  statistic: number;
  pValue: number;
  /** The method that produced the p-value ('auto' resolves to one of these; 'exact' falls back when it overflows). */
  method: 'exact' | 'asymp';
  /** The observation at which D is attained, and +1 when the first sample's ECDF is above the second's there. */
  statisticLocation: number;
  statisticSign: 1 | -1;
}

const MAX_AUTO_N = 10000;
const INT32_MAX = 2147483647;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Number of elements of sorted `arr` that are <= v (numpy searchsorted side='right'). */
function countLessOrEqual(arr: Float64Array, v: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** scipy.special.binom for non-negative integer arguments: product formula (scipy's own for k < 20, rescaled). */
function binom(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let kx = k;
  if (kx > n / 2 && n > 0) kx = n - kx;
  let num = 1;
  let den = 1;
  for (let i = 1; i <= kx; i++) {
    num *= i + n - kx;
    den *= i;
    if (Math.abs(num) > 1e50) {
      num /= den;
      den = 1;
    }
    if (!Number.isFinite(num)) return Infinity;
  }
  return num / den;
}

/** Pr(D_{n,n} >= h/n), two-sided, n1 = n2: 2·Σ(−1)^{k−1} C(2n, n−kh)/C(2n, n) evaluated Horner-style. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/** Proportion of lattice paths (0,0)→(m,n) that leave |x/m − y/n| < h/lcm(m,n): two-sided exact p-value. */
function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  let m = m0;
  let n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) for (let t = maxj - minj; t < Math.min(lenA, maxj - minj + (lastlen - curlen)); t++) A[t] = 1;
  }
  return A[maxj - minj - 1];
}

/** Number of lattice paths (0,0)→(m,n) that reach m·y <= n·x − h·g (one-sided, m ≠ n); may overflow to Infinity. */
function countPathsOutside(m0: number, n0: number, g: number, h: number): number {
  let m = m0;
  let n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  const lxj = n + Math.floor((mg - h) / mg);
  const xj: number[] = [];
  for (let j = 0; j < lxj; j++) xj.push(Math.floor((h + mg * j + ng - 1) / ng));
  if (lxj === 0) return binom(m + n, n);
  const B = new Float64Array(lxj);
  B[0] = 1;
  for (let j = 1; j < lxj; j++) {
    let Bj = binom(xj[j] + j, j);
    for (let i = 0; i < j; i++) Bj -= binom(xj[j] - xj[i] + j - i, j - i) * B[i];
    B[j] = Bj;
  }
  let numPaths = 0;
  for (let j = 0; j < lxj; j++) numPaths += B[j] * binom(m - xj[j] + (n - j), n - j);
  return numPaths;
}

function attemptExact(n1: number, n2: number, g: number, d: number, alternative: KsAlternative): { ok: boolean; d: number; p: number } {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dd = h / lcm;
  if (h === 0) return { ok: true, d: dd, p: 1 };
  let p: number;
  if (alternative === 'two-sided') {
    p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
  } else if (n1 === n2) {
    p = 1;
    for (let j = 0; j < h; j++) p *= (n1 - j) / (n1 + j + 1);
  } else {
    const numPaths = countPathsOutside(n1, n2, g, h);
    const bin = binom(n1 + n2, n1);
    if (!Number.isFinite(numPaths) || !Number.isFinite(bin) || numPaths > bin) return { ok: false, d: dd, p: NaN };
    p = numPaths / bin;
  }
  if (!Number.isFinite(p)) return { ok: false, d: dd, p: NaN };
  if (!(p >= 0 && p <= 1)) return { ok: false, d: dd, p };
  return { ok: true, d: dd, p };
}

function toSortedFloat64(name: string, data: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(data);
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i])) throw new Error(`ksTwoSample: ${name}[${i}] is NaN`);
  }
  return out.sort();
}

/**
 * Two-sample KS test of H0 "a and b come from the same distribution". Matches scipy.stats.ks_2samp (scipy 1.10):
 * 'auto' is exact when max(n1, n2) <= 10000, else asymptotic; 'exact' falls back to 'asymp' (as scipy, which warns)
 * when the exact computation overflows.
 */
export function ksTwoSample(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { alternative?: KsAlternative; method?: KsMethod } = {},
): KsResult {
  const alternative = options.alternative ?? 'two-sided';
  let mode: KsMethod = options.method ?? 'auto';
  if (!['two-sided', 'less', 'greater'].includes(alternative)) throw new Error(`ksTwoSample: unknown alternative "${alternative}"`);
  if (!['auto', 'exact', 'asymp'].includes(mode)) throw new Error(`ksTwoSample: unknown method "${mode}"`);
  const d1 = toSortedFloat64('a', a);
  const d2 = toSortedFloat64('b', b);
  const n1 = d1.length;
  const n2 = d2.length;
  if (Math.min(n1, n2) === 0) throw new Error(`ksTwoSample: both samples must be non-empty (got sizes ${n1} and ${n2})`);
  const all = new Float64Array(n1 + n2);
  all.set(d1, 0);
  all.set(d2, n1);
  let argmin = 0;
  let argmax = 0;
  let minDiff = Infinity;
  let maxDiff = -Infinity;
  for (let i = 0; i < all.length; i++) {
    const diff = countLessOrEqual(d1, all[i]) / n1 - countLessOrEqual(d2, all[i]) / n2;
    if (diff < minDiff) [minDiff, argmin] = [diff, i];
    if (diff > maxDiff) [maxDiff, argmax] = [diff, i];
  }
  const minS = Math.min(1, Math.max(0, -minDiff));
  const maxS = maxDiff;
  let d: number;
  let location: number;
  let sign: 1 | -1;
  if (alternative === 'less' || (alternative === 'two-sided' && minS > maxS)) {
    [d, location, sign] = [minS, all[argmin], -1];
  } else {
    [d, location, sign] = [maxS, all[argmax], 1];
  }
  const g = gcd(n1, n2);
  let prob = -Infinity;
  if (mode === 'auto') mode = Math.max(n1, n2) <= MAX_AUTO_N ? 'exact' : 'asymp';
  else if (mode === 'exact' && n1 / g >= INT32_MAX / (n2 / g)) mode = 'asymp';
  if (mode === 'exact') {
    const r = attemptExact(n1, n2, g, d, alternative);
    d = r.d;
    if (r.ok) prob = r.p;
    else mode = 'asymp';
  }
  if (mode === 'asymp') {
    const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
    const en = (m * n) / (m + n);
    if (alternative === 'two-sided') {
      prob = kolmogorovSf(roundHalfEven(en), d);
    } else {
      const z = Math.sqrt(en) * d;
      prob = Math.exp(-2 * z ** 2 - (2 * z * (m + 2 * n)) / Math.sqrt(m * n * (m + n)) / 3);
    }
  }
  return {
    statistic: d,
    pValue: Math.min(1, Math.max(0, prob)),
    method: mode as 'exact' | 'asymp',
    statisticLocation: location,
    statisticSign: sign,
  };
}

/** numpy.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

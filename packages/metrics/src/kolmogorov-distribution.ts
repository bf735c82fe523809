// The exact distribution of the two-sided one-sample Kolmogorov–Smirnov statistic D_n (scipy.stats.kstwo),
// ported from scipy 1.10 `scipy/stats/_ksstats.py` (Simard & L'Ecuyer 2011: Ruben–Gambino ends, Durbin matrix
// (Marsaglia–Tsang–Wang 2003), Pomeranz 1974, Pelz–Good 1976) and the one-sided Smirnov tail (Birnbaum & Tingey 1951).
// ks_2samp's asymptotic mode calls kstwo.sf(d, round(n1·n2/(n1+n2))), so this file is what makes it match scipy.

const E128 = 128;
const EP128 = 2 ** E128;
const EM128 = 2 ** -E128;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

const clip01 = (p: number): number => Math.min(1, Math.max(0, p));
const pick = (cdfProb: number, sfProb: number, cdf: boolean): number => clip01(cdf ? cdfProb : sfProb);

function polyval(coeffs: readonly number[], x: number): number {
  let p = 0;
  for (const c of coeffs) p = p * x + c;
  return p;
}

/** log(n! / n^n) by Stirling's series. */
function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * polyval(STIRLING, rn / n);
}

function matmulSquare(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += aik * b[k * m + j];
    }
  }
  return out;
}

/** Pr(D_n <= d) by Durbin's matrix algorithm as Marsaglia, Tsang & Wang (2003) compute it. */
function kolmognDurbinMatrix(n: number, d: number, cdf: boolean): number {
  if (d >= 1) return pick(1, 0, cdf);
  const nd = n * d;
  if (nd <= 0.5) return pick(0, 1, cdf);
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)];
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];
  let Hpwr: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hExpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmulSquare(Hpwr, H, m);
      expnt += hExpnt;
    }
    H = matmulSquare(H, H, m);
    hExpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > EP128) {
      for (let i = 0; i < H.length; i++) H[i] /= EP128;
      hExpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p *= 2 ** expnt;
  return pick(p, 1 - p, cdf);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n <= x) by the Pomeranz (1974) recursion. */
function kolmognPomeranz(n: number, x: number, cdf: boolean): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinus2GOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * gOverN) / m;
    twogpower[m] = (twogpower[m - 1] * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * oneMinus2GOverN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // conv = np.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]) — numpy slices stop at the array's end.
      const start = k1 - V0s;
      const aLen = Math.max(0, Math.min(ln2, npwrs - start));
      const bLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let maxV = -Infinity;
      for (let o = 0; o < convLen; o++) {
        const kk = convStart + o;
        let s = 0;
        for (let a = Math.max(0, kk - bLen + 1); a <= Math.min(kk, aLen - 1); a++) s += V0[start + a] * pwrs[kk - a];
        V1[o] = s;
      }
      for (let o = 0; o < npwrs; o++) if (V1[o] > maxV) maxV = V1[o];
      if (maxV > 0 && maxV < EM128) {
        for (let o = 0; o < npwrs; o++) V1[o] *= EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans *= 2 ** expnt;
  return pick(ans, 1 - ans, cdf);
}

/** Pelz–Good (1976) asymptotic series for Pr(D_n <= x). */
function kolmognPelzGood(n: number, x: number, cdf: boolean): number {
  if (x <= 0) return pick(0, 1, cdf);
  if (x >= 1) return pick(1, 0, cdf);
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return pick(0, 1, cdf);
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qpower + coeffs[i];
  }
  const denom = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * SQRT2PI) / denom[i];
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxk; k > 0; k--) {
    const ks2 = k * k;
    const qp = q ** ks2;
    k2extra += ks2 * qp;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
  }
  K[2] += (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3] += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  for (let i = 0; i < 4; i++) K[i] /= (n * 1.0) ** (i / 2);
  if (!cdf) {
    for (let i = 0; i < 4; i++) K[i] *= -1;
    K[0] += 1;
  }
  return K[0] + K[1] + K[2] + K[3];
}

/**
 * One-sided Smirnov tail Pr(D_n^+ >= x) (scipy.special.smirnov), Birnbaum–Tingey sum
 * x · Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (1−x−j/n)^{n−j} (x+j/n)^{j−1}; all terms positive, summed in log space.
 * Used by kolmogn only where x ≥ 0.5 or n·x² is large, i.e. where this lower sum is scipy's own route.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  let nxfl = Math.floor(nx);
  let alpha = nx - nxfl;
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < -708.3964185322641) return 0;
  if (nxfl >= n - 1) return (1 - x) ** n;
  const nTerms = n1mxfl + 1;
  const vmid = Math.floor(n / 2);
  let logC = 0; // log C(n, j)
  let sum = (1 - x) ** n / x; // j = 0 term: (1−x)^n · x^{−1}
  for (let j = 1; j < nTerms; j++) {
    logC += Math.log((n - j + 1) / j);
    const t2x = (n - j) / n - x;
    const t1x = j / n + x;
    const aj = Math.exp(logC + (n - j) * Math.log(t2x) + (j - 1) * Math.log(t1x));
    if (Number.isFinite(aj) && aj !== 0) sum += aj;
    if (aj !== 0) {
      if (4 * (nTerms - j) * Math.abs(aj) < Number.EPSILON * sum && j !== nTerms - 1) break;
    } else if (j > vmid) break;
  }
  return clip01(x * sum);
}

/** scipy `_kolmogn(n, x, cdf)`: CDF (or SF) of the two-sided one-sample KS statistic for sample size n. */
export function kolmogorovN(n: number, x: number, cdf = true): number {
  if (!Number.isInteger(n) || n <= 0) return NaN;
  if (x >= 1) return pick(1, 0, cdf);
  if (x <= 0) return pick(0, 1, cdf);
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return pick(0, 1, cdf);
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return pick(prob, 1 - prob, cdf);
  }
  if (t >= n - 1) {
    const prob = 2 * (1 - x) ** n;
    return pick(1 - prob, prob, cdf);
  }
  if (x >= 0.5) {
    const prob = 2 * smirnovSf(n, x);
    return pick(1 - prob, prob, cdf);
  }
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) {
      const prob = kolmognDurbinMatrix(n, x, true);
      return pick(prob, 1 - prob, cdf);
    }
    if (nxsquared <= 4) {
      const prob = kolmognPomeranz(n, x, true);
      return pick(prob, 1 - prob, cdf);
    }
    const prob = 2 * smirnovSf(n, x);
    return pick(1 - prob, prob, cdf);
  }
  if (!cdf) {
    if (nxsquared >= 370) return 0;
    if (nxsquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  }
  let cdfprob: number;
  if (nxsquared >= 18) cdfprob = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdfprob = kolmognDurbinMatrix(n, x, true);
  else cdfprob = kolmognPelzGood(n, x, true);
  return pick(cdfprob, 1 - cdfprob, cdf);
}

/** scipy.stats.kstwo.sf(x, n). */
export function kolmogorovSf(n: number, x: number): number {
  return kolmogorovN(n, x, false);
}

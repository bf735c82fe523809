// Float64 reference implementations (plain loops, row-major), independent of tfjs: the ground truth the gradient
// and parity tests compare against. Shapes follow the tfjs/PyTorch conventions of the ops they mirror.

/** Batched matrix product of row-major a [..., m, k] (or its last-two transpose) and b. */
export function matmulRef(
  a: Float64Array, aShape: number[], b: Float64Array, bShape: number[], transposeA: boolean, transposeB: boolean,
): { out: Float64Array; shape: number[] } {
  const batch = aShape.length === 3 ? aShape[0] : 1;
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const out = new Float64Array(batch * m * n);
  for (let s = 0; s < batch; s++) {
    const ao = s * ar * ac;
    const bo = s * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = transposeA ? a[ao + p * ac + i] : a[ao + i * ac + p];
          const bv = transposeB ? b[bo + j * bc + p] : b[bo + p * bc + j];
          acc += av * bv;
        }
        out[s * m * n + i * n + j] = acc;
      }
    }
  }
  return { out, shape: aShape.length === 3 ? [batch, m, n] : [m, n] };
}

/** Applies fn to every row (last axis of length d) of x. */
function rows(x: Float64Array, d: number, fn: (row: Float64Array) => ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += d) out.set(fn(x.subarray(o, o + d)), o);
  return out;
}

export function logSoftmaxRef(x: Float64Array, d: number): Float64Array {
  return rows(x, d, (r) => {
    const max = Math.max(...r);
    const lse = max + Math.log(r.reduce((s, v) => s + Math.exp(v - max), 0));
    return r.map((v) => v - lse);
  });
}

export function softmaxRef(x: Float64Array, d: number): Float64Array {
  return logSoftmaxRef(x, d).map(Math.exp);
}

/** LayerNorm over the last axis (biased variance, as torch.nn.LayerNorm). */
export function layerNormRef(x: Float64Array, gamma: Float64Array, beta: Float64Array, eps: number): Float64Array {
  const d = gamma.length;
  return rows(x, d, (r) => {
    const mean = r.reduce((s, v) => s + v, 0) / d;
    const variance = r.reduce((s, v) => s + (v - mean) ** 2, 0) / d;
    return r.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[i] + beta[i]);
  });
}

/** RMSNorm over the last axis (Llama: x / sqrt(mean(x²) + eps) · w). */
export function rmsNormRef(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  const d = weight.length;
  return rows(x, d, (r) => {
    const rms = Math.sqrt(r.reduce((s, v) => s + v * v, 0) / d + eps);
    return r.map((v, i) => (v / rms) * weight[i]);
  });
}

/** Mean over non-ignored rows of −log softmax(logits)[label]; label −100 carries no loss. */
export function crossEntropyRef(logits: Float64Array, labels: ArrayLike<number>, vocab: number): number {
  const logp = logSoftmaxRef(logits, vocab);
  let total = 0;
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === -100) continue;
    total -= logp[i * vocab + labels[i]];
    count++;
  }
  return total / Math.max(count, 1);
}

/** Rows of a [rows, d] table picked by ids. */
export function gatherRowsRef(table: Float64Array, d: number, ids: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ids.length * d);
  for (let t = 0; t < ids.length; t++) out.set(table.subarray(ids[t] * d, ids[t] * d + d), t * d);
  return out;
}

/** Central finite differences of a scalar function of several float64 inputs: ∂f/∂x_i ≈ (f(x+εe_i) − f(x−εe_i)) / 2ε. */
export function finiteDifferenceGrads(f: (xs: Float64Array[]) => number, xs: Float64Array[], eps = 1e-5): Float64Array[] {
  return xs.map((x) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i];
      x[i] = keep + eps;
      const up = f(xs);
      x[i] = keep - eps;
      const down = f(xs);
      x[i] = keep;
      g[i] = (up - down) / (2 * eps);
    }
    return g;
  });
}

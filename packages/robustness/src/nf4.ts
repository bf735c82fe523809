// NF4 — 4-bit NormalFloat (QLoRA, Dettmers et al. 2023, arXiv 2305.14314, §3 and appendix E): 16 levels at
// quantiles of N(0, 1) rescaled to [−1, 1] with an exact 0, applied blockwise to the flattened tensor:
//   a_b = max|block b|,   code = argmin_k |W / a_b − NF4_k|,   W' = NF4_code · a_b
// Blocks of 64 (bitsandbytes' default blocksize for 4-bit), float32 absmax (no double quantization), float32 math.
// Ties (a value exactly between two levels) go to the lower code. bitsandbytes' CUDA kernel multiplies by 1/a_b and
// walks a tree of hard-coded midpoints, which can differ from W / a_b by an ulp on values that sit on a midpoint.
import { absMax, checkMatrix, type QuantizedWeight, type WeightMatrix } from './quantized-weight.js';

const f32 = Math.fround;

/** The NF4 code book as float32 (bitsandbytes' table; QLoRA appendix E). */
export const NF4_CODE_BOOK: Float32Array = Float32Array.from([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

export interface Nf4Options {
  /** Weights per absmax (default 64). */
  blockSize?: number;
}

/** Index of the code-book value nearest to x (float32 distances; the first, i.e. lower, on ties). */
export function nearestNf4(x: number): number {
  let best = 0;
  let bestDist = Infinity;
  for (let k = 0; k < 16; k++) {
    const d = Math.abs(f32(x - NF4_CODE_BOOK[k]));
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return best;
}

export function quantizeNf4(w: WeightMatrix, options: Nf4Options = {}): QuantizedWeight {
  const block = options.blockSize ?? 64;
  if (!Number.isInteger(block) || block < 1) throw new Error(`nf4: blockSize must be a positive integer, got ${block}`);
  checkMatrix(w, 'nf4');
  const { rows, cols, values } = w;
  const n = values.length;
  const blocks = Math.ceil(n / block);
  const codes = new Uint8Array(n);
  const scales = new Float32Array(blocks);
  const dequantized = new Float32Array(n);
  const zero = nearestNf4(0);
  for (let b = 0; b < blocks; b++) {
    const from = b * block;
    const to = Math.min(n, from + block);
    const a = absMax(values, from, to);
    scales[b] = a;
    for (let i = from; i < to; i++) {
      const code = a === 0 ? zero : nearestNf4(f32(values[i] / a));
      codes[i] = code;
      dequantized[i] = NF4_CODE_BOOK[code] * a;
    }
  }
  return { method: `nf4-b${block}`, rows, cols, codes, scales, dequantized };
}

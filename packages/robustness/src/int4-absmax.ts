// 4-bit symmetric round-to-nearest with an absmax scale per group of `groupSize` consecutive inputs of each output
// row — the RTN baseline of GPTQ/AWQ-style group quantization (group 128 is the common deployment setting, 64 the
// finer one) and the Int4 absmax format of Dettmers & Zettlemoyer 2023 (arXiv 2212.09720):
//   s = max|group| / 7,   q = clip(round(W / s), −7, 7),   W' = q · s
// in float32, round half to even. The last group of a row is shorter when cols is not a multiple of groupSize.
// Codes use the 15 symmetric levels −7…7 (−8 unused, so 0 is exact and the grid is sign-symmetric).
import { roundHalfEven } from './round-half-even.js';
import { absMax, checkMatrix, type QuantizedWeight, type WeightMatrix } from './quantized-weight.js';

const f32 = Math.fround;

export interface Int4Options {
  /** Inputs per scale (default 128). */
  groupSize?: number;
}

export function quantizeInt4Absmax(w: WeightMatrix, options: Int4Options = {}): QuantizedWeight {
  const g = options.groupSize ?? 128;
  if (!Number.isInteger(g) || g < 1) throw new Error(`int4: groupSize must be a positive integer, got ${g}`);
  checkMatrix(w, 'int4');
  const { rows, cols, values } = w;
  const groups = Math.ceil(cols / g);
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const dequantized = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < groups; j++) {
      const from = r * cols + j * g;
      const to = r * cols + Math.min(cols, (j + 1) * g);
      const s = f32(absMax(values, from, to) / 7);
      scales[r * groups + j] = s;
      if (s === 0) continue;
      for (let i = from; i < to; i++) {
        const q = Math.max(-7, Math.min(7, roundHalfEven(f32(values[i] / s))));
        codes[i] = q;
        dequantized[i] = q * s;
      }
    }
  }
  return { method: `int4-g${g}`, rows, cols, codes, scales, dequantized };
}

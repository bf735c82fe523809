// int8 absmax quantization per output channel — LLM.int8()'s vector-wise quantization without the outlier
// decomposition (Dettmers et al. 2022, arXiv 2208.07339, eq. 1–3; bitsandbytes int8_vectorwise_quant):
//   s_r = max_j |W_rj| / 127,   q_rj = clip(round(W_rj / s_r), −127, 127),   W'_rj = q_rj · s_r
// in float32, round half to even (numpy rint / torch.round / CUDA __float2int_rn). An all-zero row has s = 0, q = 0.
import { roundHalfEven } from './round-half-even.js';
import { absMax, checkMatrix, type QuantizedWeight, type WeightMatrix } from './quantized-weight.js';

const f32 = Math.fround;

export function quantizeInt8Absmax(w: WeightMatrix): QuantizedWeight {
  checkMatrix(w, 'int8');
  const { rows, cols, values } = w;
  const codes = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  const dequantized = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = f32(absMax(values, r * cols, (r + 1) * cols) / 127);
    scales[r] = s;
    if (s === 0) continue;
    for (let i = r * cols; i < (r + 1) * cols; i++) {
      const q = Math.max(-127, Math.min(127, roundHalfEven(f32(values[i] / s))));
      codes[i] = q;
      dequantized[i] = q * s;
    }
  }
  return { method: 'int8', rows, cols, codes, scales, dequantized };
}

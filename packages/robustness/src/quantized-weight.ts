// What every weight quantizer returns: the integer codes a deployment would store, the float32 scales, and the
// round trip W' = dequantize(quantize(W)) that the attack loads back into the model.

/** A 2-D weight [rows = output channels, cols = input features], row-major (the Hugging Face Linear layout). */
export interface WeightMatrix {
  values: Float32Array;
  rows: number;
  cols: number;
}

export interface QuantizedWeight {
  /** e.g. `int8`, `int4-g128`, `nf4-b64`. */
  method: string;
  rows: number;
  cols: number;
  /** One code per weight, row-major: int8 / int4 signed levels, or NF4 code-book indices 0–15. */
  codes: Int8Array | Uint8Array;
  /** float32 scales: per row (int8), per row and group (int4, row-major), per block of the flattened tensor (nf4). */
  scales: Float32Array;
  /** The round trip, float32, same layout as the input. */
  dequantized: Float32Array;
}

export function checkMatrix(w: WeightMatrix, who: string): void {
  const { rows, cols, values } = w;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) throw new Error(`${who}: shape [${rows}, ${cols}] is not a matrix`);
  if (values.length !== rows * cols) throw new Error(`${who}: ${values.length} values for shape [${rows}, ${cols}]`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${who}: value ${values[i]} at index ${i} is not finite`);
  }
}

/** max |x| over values[from, to), in float32 (exact: |x| of a float32 is a float32). */
export function absMax(values: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(values[i]);
    if (a > m) m = a;
  }
  return m;
}

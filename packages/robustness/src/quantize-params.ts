// A model's weights through a quantizer's round trip, in place: what a user gets when they deploy the unlearned model
// in 8 or 4 bits (Zhang et al., ICLR 2025, arXiv 2410.16454: 4-bit quantization brings "forgotten" knowledge back).
// As transformers + bitsandbytes do, only the Linear layers' weights are quantized: embeddings, the LM head, norms and
// biases stay float32 (options.includeEmbeddings quantizes the token/position embeddings too).
import * as tf from '@tensorflow/tfjs-core';
import type { ParamMap } from '@unlearn/core';
import { quantizeInt4Absmax } from './int4-absmax.js';
import { quantizeInt8Absmax } from './int8-absmax.js';
import { quantizeNf4 } from './nf4.js';
import type { QuantizedWeight, WeightMatrix } from './quantized-weight.js';

export type QuantizerSpec =
  | { method: 'identity' }
  | { method: 'int8' }
  | { method: 'int4'; groupSize?: number }
  | { method: 'nf4'; blockSize?: number };

/** `int8`, `int4-g128`, `nf4-b64`, `identity`: the name reports use. */
export function quantizerLabel(spec: QuantizerSpec): string {
  if (spec.method === 'int4') return `int4-g${spec.groupSize ?? 128}`;
  if (spec.method === 'nf4') return `nf4-b${spec.blockSize ?? 64}`;
  return spec.method;
}

/** One weight matrix through `spec` (identity: codes empty, dequantized a copy). */
export function quantizeWeight(w: WeightMatrix, spec: QuantizerSpec): QuantizedWeight {
  switch (spec.method) {
    case 'int8': return quantizeInt8Absmax(w);
    case 'int4': return quantizeInt4Absmax(w, { groupSize: spec.groupSize });
    case 'nf4': return quantizeNf4(w, { blockSize: spec.blockSize });
    case 'identity': return { method: 'identity', rows: w.rows, cols: w.cols, codes: new Int8Array(0), scales: new Float32Array(0), dequantized: Float32Array.from(w.values) };
    default: throw new Error(`quantize: unknown method "${(spec as { method: string }).method}" (int8, int4, nf4, identity)`);
  }
}

const EMBEDDING = /(^|\.)(embed_tokens|wte|wpe|embed_positions)\.weight$/;
const HEAD = /(^|\.)lm_head\.weight$/;
/** GPT-2's Conv1D weights are stored [in, out]: their output channels are columns. */
const CONV1D = /\.(c_attn|c_proj|c_fc)\.weight$/;

/** Names of the parameters `quantizeParams` changes: rank-2 `.weight`s, minus embeddings (unless asked) and the LM head. */
export function quantizableParams(params: ParamMap, options: { includeEmbeddings?: boolean } = {}): string[] {
  return [...params.keys()].filter((name) => {
    const v = params.get(name)!;
    if (v.rank !== 2 || !name.endsWith('.weight') || HEAD.test(name)) return false;
    return options.includeEmbeddings || !EMBEDDING.test(name);
  });
}

export interface QuantizeReport {
  method: string;
  tensors: number;
  weights: number;
  /** max |W' − W| and mean |W' − W| over the quantized weights. */
  maxAbsError: number;
  meanAbsError: number;
}

/** Replaces each quantizable parameter of `params` by its round trip through `spec`; returns what changed. */
export async function quantizeParams(params: ParamMap, spec: QuantizerSpec, options: { includeEmbeddings?: boolean } = {}): Promise<QuantizeReport> {
  let weights = 0;
  let maxAbsError = 0;
  let sumAbsError = 0;
  const names = quantizableParams(params, options);
  for (const name of names) {
    const v = params.get(name)!;
    const [a, b] = v.shape as [number, number];
    const transpose = CONV1D.test(name);
    let values: Float32Array;
    if (transpose) {
      const t = tf.transpose(v);
      values = (await t.data()) as Float32Array;
      t.dispose();
    } else values = (await v.data()) as Float32Array;
    const [rows, cols] = transpose ? [b, a] : [a, b];
    const q = quantizeWeight({ values: Float32Array.from(values), rows, cols }, spec);
    for (let i = 0; i < values.length; i++) {
      const e = Math.abs(q.dequantized[i] - values[i]);
      sumAbsError += e;
      if (e > maxAbsError) maxAbsError = e;
    }
    weights += values.length;
    tf.tidy(() => {
      const t = tf.tensor2d(q.dequantized, [rows, cols]);
      v.assign(transpose ? tf.transpose(t) : t);
    });
  }
  return { method: quantizerLabel(spec), tensors: names.length, weights, maxAbsError, meanAbsError: weights ? sumAbsError / weights : 0 };
}

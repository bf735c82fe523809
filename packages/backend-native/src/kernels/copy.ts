// Data movement as strided row copies in the addon: Slice (one partial axis), SplitV, Concat, PadV2 (the gradient
// of Slice: the label shift's logits[:, :-1] pads a [batch, seq−1, vocab] gradient back, 157 ms per stories260K step in
// the cpu kernel's element loop), GatherV2 on axis 0 (embedding lookups) and its gradient ScatterNd. tfjs-backend-cpu walks these element by element: 2.3 s of a 3.4 s train step went to
// splitting qkv [1024, 768] before this.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, nativeKernel, output, sizeOf } from './shared.js';

/** x[begin : begin+size] when at most one axis is partial (the common case); null otherwise. */
function slice(backend: MathBackendCPU, addon: NativeAddon, x: TensorInfo, begin: number[], size: number[]): TensorInfo | null {
  const xv = floatValues(backend, x);
  if (!xv) return null;
  const shape = x.shape;
  const partial = shape.map((d, i) => i).filter((i) => size[i] !== shape[i]);
  if (partial.length > 1) return null;
  const out = allocOutput(backend, sizeOf(size));
  if (partial.length === 0) {
    addon.copyRows(xv, 0, 0, out, 0, 0, 1, xv.length);
  } else {
    const a = partial[0];
    const inner = sizeOf(shape.slice(a + 1));
    addon.copyRows(xv, begin[a] * inner, shape[a] * inner, out, 0, size[a] * inner, sizeOf(shape.slice(0, a)), size[a] * inner);
  }
  return output(backend, size.slice(), out);
}

/** x padded with `value`: the output filled, then x's innermost two dims copied in as one strided block per index
 * of the leading dims. */
function pad(backend: MathBackendCPU, addon: NativeAddon, x: TensorInfo, paddings: [number, number][], value: number): TensorInfo | null {
  const xv = floatValues(backend, x);
  if (!xv || paddings.length !== x.shape.length || paddings.some(([a, b]) => a < 0 || b < 0)) return null;
  const shape = x.shape.length === 0 ? [1] : x.shape;
  const pads = x.shape.length === 0 ? [[0, 0] as [number, number]] : paddings;
  const outShape = shape.map((d, i) => pads[i][0] + d + pads[i][1]);
  const out = allocOutput(backend, sizeOf(outShape)).fill(value);
  const r = shape.length;
  const cols = shape[r - 1], rows = r >= 2 ? shape[r - 2] : 1;
  const outCols = outShape[r - 1];
  const outStrides = outShape.map((_, i) => sizeOf(outShape.slice(i + 1)));
  const lead = shape.slice(0, Math.max(0, r - 2));
  const blocks = sizeOf(lead);
  if (xv.length > 0) {
    for (let b = 0; b < blocks; b++) {
      let rem = b, off = 0;
      for (let d = lead.length - 1; d >= 0; d--) {
        off += ((rem % lead[d]) + pads[d][0]) * outStrides[d];
        rem = Math.floor(rem / lead[d]);
      }
      if (r >= 2) off += pads[r - 2][0] * outStrides[r - 2];
      addon.copyRows(xv, b * rows * cols, cols, out, off + pads[r - 1][0], outCols, rows, cols);
    }
  }
  return output(backend, x.shape.length === 0 ? [] : outShape, out);
}

export function copyKernels(addon: NativeAddon): KernelConfig[] {
  return [
    nativeKernel('PadV2', addon, ({ inputs, backend, attrs }) => {
      const { paddings, constantValue } = attrs as { paddings: [number, number][]; constantValue: number };
      return pad(backend, addon, inputs.x, paddings, constantValue ?? 0);
    }),
    nativeKernel('Slice', addon, ({ inputs, backend, attrs }) => {
      const { x } = inputs;
      const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin as number | number[], attrs.size as number | number[]);
      tf.slice_util.assertParamsValid(x, begin, size);
      return slice(backend, addon, x, begin, size);
    }),
    nativeKernel('SplitV', addon, ({ inputs, backend, attrs }) => {
      const { x } = inputs;
      if (!floatValues(backend, x)) return null;
      const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits as number | number[], axis);
      const begin = x.shape.map(() => 0);
      return sizes.map((s) => {
        const size = x.shape.slice();
        size[axis] = s;
        const piece = slice(backend, addon, x, begin, size)!; // one partial axis: never null
        begin[axis] += s;
        return piece;
      });
    }),
    nativeKernel('Concat', addon, ({ inputs, backend, attrs }) => {
      const xs = Object.keys(inputs).sort((p, q) => Number(p) - Number(q)).map((k) => inputs[k]);
      if (xs.length === 0) return null;
      const values = xs.map((t) => floatValues(backend, t));
      if (values.some((v) => !v)) return null;
      const axis = tf.util.parseAxisParam(attrs.axis as number, xs[0].shape)[0];
      const shapes = xs.map((t) => t.shape);
      tf.backend_util.assertParamsConsistent(shapes, axis);
      const outShape = tf.backend_util.computeOutShape(shapes, axis);
      const rows = sizeOf(outShape.slice(0, axis));
      const inner = sizeOf(outShape.slice(axis + 1));
      const outCols = outShape[axis] * inner;
      const out = allocOutput(backend, sizeOf(outShape));
      let col = 0;
      xs.forEach((t, i) => {
        const cols = t.shape[axis] * inner;
        addon.copyRows(values[i]!, 0, cols, out, col, outCols, rows, cols);
        col += cols;
      });
      return output(backend, outShape, out);
    }),
    // ScatterNd with one index per row (the embedding gradient @unlearn/tensors registers for GatherV2):
    // out[idx[i]] += updates[i], duplicates summed — a parallel zero fill, then only the touched rows (in the addon)
    nativeKernel('ScatterNd', addon, ({ inputs, backend, attrs }) => {
      const { indices, updates } = inputs;
      const { shape } = attrs as { shape: number[] };
      const uv = floatValues(backend, updates);
      const iv = backend.data.get(indices.dataId).values;
      if (!uv || !(iv instanceof Int32Array) || indices.shape.length !== 2 || indices.shape[1] !== 1 || shape.length < 1) return null;
      const cols = sizeOf(shape.slice(1));
      if (uv.length !== iv.length * cols) return null;
      const out = allocOutput(backend, sizeOf(shape));
      if (addon.scatterAddRows(uv, cols, iv, out) !== -1) return null; // the cpu kernel reports the bad index
      return output(backend, shape.slice(), out);
    }),
    nativeKernel('GatherV2', addon, ({ inputs, backend, attrs }) => {
      const { x, indices } = inputs;
      const xv = floatValues(backend, x);
      const iv = backend.data.get(indices.dataId).values;
      const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
      if (!xv || axis !== 0 || ((attrs.batchDims as number) ?? 0) !== 0 || !(iv instanceof Int32Array) || x.shape.length === 0) return null;
      const cols = sizeOf(x.shape.slice(1));
      const out = allocOutput(backend, iv.length * cols);
      const bad = addon.gatherRows(xv, cols, iv, out);
      if (bad !== -1) return null; // the cpu kernel reports tfjs's own out-of-range error
      return output(backend, [...indices.shape, ...x.shape.slice(1)], out);
    }),
  ];
}

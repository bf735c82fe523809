// Sum / Max / Mean over any axes. Contiguous axes reduce in place as [outer, reduce, inner] (the bias-gradient
// column sums included); scattered axes are first transposed to the end, as tfjs-backend-cpu does.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, nativeKernel, output, sizeOf } from './shared.js';

type Reduction = 'sum' | 'max' | 'mean';

function reduce(backend: MathBackendCPU, addon: NativeAddon, x: TensorInfo, axis: number | number[], keepDims: boolean,
  kind: Reduction): TensorInfo | null {
  let xv = floatValues(backend, x);
  if (!xv) return null;
  let shape = x.shape.slice();
  let axes = tf.util.parseAxisParam(axis, shape).sort((p, q) => p - q);
  const outShape = keepDims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
  const reduced = sizeOf(axes.map((a) => shape[a]));
  if (reduced === 0 || xv.length === 0) return null; // empty reductions: the cpu kernel's identity values
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (!contiguous) {
    const perm = tf.backend_util.getAxesPermutation(axes, shape.length)!;
    const moved = allocOutput(backend, xv.length);
    addon.transpose(xv, moved, shape, perm);
    xv = moved;
    shape = perm.map((p) => shape[p]);
    axes = tf.backend_util.getInnerMostAxes(axes.length, shape.length);
  }
  const first = axes.length ? axes[0] : shape.length;
  const last = axes.length ? axes[axes.length - 1] : shape.length - 1;
  const outer = sizeOf(shape.slice(0, first));
  const inner = sizeOf(shape.slice(last + 1));
  const out = allocOutput(backend, outer * inner);
  addon.reduce(kind === 'max', xv, out, outer, reduced, inner);
  if (kind === 'mean') {
    const scale = 1 / reduced;
    for (let i = 0; i < out.length; i++) out[i] *= scale;
  }
  return output(backend, outShape, out);
}

export function reduceKernels(addon: NativeAddon): KernelConfig[] {
  const make = (name: string, kind: Reduction) =>
    nativeKernel(name, addon, ({ inputs, backend, attrs }) => {
      // Max names its axes `reductionIndices`, Sum and Mean `axis`
      const { axis, reductionIndices, keepDims } = attrs as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean };
      return reduce(backend, addon, inputs.x, (kind === 'max' ? reductionIndices : axis) as number | number[], keepDims, kind);
    });
  return [make('Sum', 'sum'), make('Max', 'max'), make('Mean', 'mean')];
}

// Tensor creation kernels on pooled memory: Fill, ZerosLike, OnesLike, OneHot, and Cast to float32 (the one-hot
// labels of a cross-entropy are int32 and get cast). tfjs-backend-cpu allocates (and page-faults) fresh arrays.
import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { allocOutput, nativeKernel, output, sizeOf } from './shared.js';

export function fillKernels(addon: NativeAddon): KernelConfig[] {
  const like = (name: string, value: number) =>
    nativeKernel(name, addon, ({ inputs, backend }) => {
      const { x } = inputs;
      if (x.dtype !== 'float32') return null;
      return output(backend, x.shape.slice(), allocOutput(backend, sizeOf(x.shape)).fill(value));
    });
  return [
    like('ZerosLike', 0),
    like('OnesLike', 1),
    nativeKernel('Fill', addon, ({ backend, attrs }) => {
      const { shape, value, dtype } = attrs as { shape: number[]; value: number; dtype: string };
      if ((dtype ?? 'float32') !== 'float32' || typeof value !== 'number') return null;
      return output(backend, shape.slice(), allocOutput(backend, sizeOf(shape)).fill(value));
    }),
    nativeKernel('OneHot', addon, ({ inputs, backend, attrs }) => {
      const { indices } = inputs;
      const { depth, onValue, offValue, dtype } = attrs as { depth: number; onValue: number; offValue: number; dtype: string };
      const ids = backend.data.get(indices.dataId).values;
      if (!(ids instanceof Int32Array) || (dtype !== 'float32' && dtype !== 'int32')) return null;
      const n = ids.length * depth;
      const out = dtype === 'float32' ? allocOutput(backend, n).fill(offValue) : new Int32Array(n).fill(offValue);
      for (let i = 0; i < ids.length; i++) if (ids[i] >= 0 && ids[i] < depth) out[i * depth + ids[i]] = onValue;
      return backend.makeTensorInfo([...indices.shape, depth], dtype, out);
    }),
    nativeKernel('Cast', addon, ({ inputs, backend, attrs }) => {
      const { x } = inputs;
      const values = backend.data.get(x.dataId).values;
      if ((attrs as { dtype: string }).dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return null;
      if (!(values instanceof Int32Array || values instanceof Uint8Array || values instanceof Float32Array)) return null;
      const out = allocOutput(backend, values.length);
      out.set(values);
      return output(backend, x.shape.slice(), out);
    }),
  ];
}

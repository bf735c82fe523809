// Transpose: the addon coalesces axes, copies whole rows when the last axis stays last, else moves 32×32 tiles.
import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, nativeKernel, output } from './shared.js';

export function transposeKernels(addon: NativeAddon): KernelConfig[] {
  return [
    nativeKernel('Transpose', addon, ({ inputs, backend, attrs }) => {
      const { x } = inputs;
      const { perm } = attrs as { perm: number[] };
      const xv = floatValues(backend, x);
      if (!xv) return null;
      const shape = perm.map((p) => x.shape[p]);
      const out = allocOutput(backend, xv.length);
      addon.transpose(xv, out, x.shape, perm);
      return output(backend, shape, out);
    }),
  ];
}

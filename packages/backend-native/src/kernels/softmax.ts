// Softmax over the last axis: row max, exp(x − max), one scaling pass (tfjs's Softmax kernel takes dim = last).
import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, nativeKernel, output } from './shared.js';

export function softmaxKernels(addon: NativeAddon): KernelConfig[] {
  return [
    nativeKernel('Softmax', addon, ({ inputs, backend, attrs }) => {
      const { logits } = inputs;
      const { dim } = attrs as { dim: number };
      const rank = logits.shape.length;
      const xv = floatValues(backend, logits);
      if (!xv || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
      const cols = logits.shape[rank - 1];
      if (cols === 0) return null;
      const out = allocOutput(backend, xv.length);
      addon.softmax(xv, out, xv.length / cols, cols, false);
      return output(backend, logits.shape.slice(), out);
    }),
  ];
}

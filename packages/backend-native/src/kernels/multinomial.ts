// Multinomial (Sophia-G samples labels ŷ ~ softmax(logits) every Hessian estimate): softmax rows and inverse-CDF
// sampling in the addon, with tfjs-backend-cpu's exact semantics — uniforms from seedrandom's alea(seed), the
// same sequence for every row (a tfjs-backend-cpu quirk kept for parity), float32 running CDF.
import seedrandom from 'seedrandom';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, nativeKernel } from './shared.js';

export function multinomialKernels(addon: NativeAddon): KernelConfig[] {
  return [
    nativeKernel('Multinomial', addon, ({ inputs, backend, attrs }) => {
      const { logits } = inputs;
      const { numSamples, seed, normalized } = attrs as { numSamples: number; seed: number; normalized: boolean };
      const lv = floatValues(backend, logits);
      if (!lv || logits.shape.length !== 2 || logits.shape[1] < 1) return null;
      const [rows, cols] = logits.shape;
      let probs = lv;
      if (!normalized) {
        probs = allocOutput(backend, lv.length); // scratch: never becomes a tensor, so it is simply dropped
        addon.softmax(lv, probs, rows, cols, false);
      }
      const random = seedrandom.alea(seed.toString());
      const uniforms = Float64Array.from({ length: numSamples }, () => random());
      const out = new Int32Array(rows * numSamples);
      addon.multinomial(probs, rows, cols, uniforms, out);
      return backend.makeTensorInfo([rows, numSamples], 'int32', out);
    }),
  ];
}

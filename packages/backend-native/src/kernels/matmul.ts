// BatchMatMul and _FusedMatMul (matmul + bias + activation) on the addon's packed, register-tiled gemm
// (AVX-512 / AVX2 / portable builds), transposes folded into the packing, batches shared across threads.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, nativeKernel, output, sizeOf } from './shared.js';

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, sigmoid: 2 };

function matmul(backend: MathBackendCPU, addon: NativeAddon, a: TensorInfo, b: TensorInfo, transposeA: boolean,
  transposeB: boolean, bias: Float32Array | null, activation: number): TensorInfo | null {
  const av = floatValues(backend, a);
  const bv = floatValues(backend, b);
  if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length, rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return null; // the cpu kernel throws tfjs's own message
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  const sizeA = sizeOf(batchA), sizeB = sizeOf(batchB);
  let outBatch: number[];
  try {
    outBatch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
  } catch {
    return null;
  }
  const batch = sizeOf(outBatch);
  // one side broadcast whole, or both the same batch: anything else (e.g. [2,1] x [1,3]) goes to the cpu kernel
  if (!(sizeA === 1 || sizeB === 1 || (sizeA === batch && sizeB === batch))) return null;
  const out = allocOutput(backend, batch * m * n);
  addon.gemm(av, bv, out, batch, m, n, k, transposeA, transposeB, sizeA === 1 ? 0 : m * k, sizeB === 1 ? 0 : k * n,
    bias, activation);
  return output(backend, [...outBatch, m, n], out);
}

export function matmulKernels(addon: NativeAddon): KernelConfig[] {
  return [
    nativeKernel('BatchMatMul', addon, ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      return matmul(backend, addon, inputs.a, inputs.b, transposeA, transposeB, null, 0);
    }),
    nativeKernel('_FusedMatMul', addon, ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB, activation } = attrs as { transposeA: boolean; transposeB: boolean; activation: string };
      const act = ACTIVATIONS[activation ?? 'linear'];
      if (act === undefined || inputs.preluActivationWeights) return null;
      let bias: Float32Array | null = null;
      if (inputs.bias) {
        const rb = inputs.b.shape.length;
        const n = transposeB ? inputs.b.shape[rb - 2] : inputs.b.shape[rb - 1];
        const shape = inputs.bias.shape;
        // a bias over the output columns ([n], [1, n], ...) is fused; other broadcasts go to the cpu kernel
        if (shape.length === 0 || shape[shape.length - 1] !== n || sizeOf(shape) !== n) return null;
        bias = floatValues(backend, inputs.bias);
        if (!bias) return null;
      }
      return matmul(backend, addon, inputs.a, inputs.b, transposeA, transposeB, bias, act);
    }),
  ];
}

// Elementwise float32 kernels: broadcasting binary ops (numpy rules, dims coalesced in the addon) and unary math
// (exp/tanh/log from Cephes-style polynomials, vectorised).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { allocOutput, floatValues, nativeKernel, output, sizeOf } from './shared.js';

// The addon's BinaryOp / UnaryOp enums (native/kernels.h).
const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 };
const UNARY: Record<string, number> = {
  Exp: 0, Tanh: 1, Neg: 2, Square: 3, Sqrt: 4, Rsqrt: 5, Log: 6, Relu: 7, Sigmoid: 8, Abs: 9, Reciprocal: 10,
};

export function elementwiseKernels(addon: NativeAddon): KernelConfig[] {
  const binary = Object.entries(BINARY).map(([name, op]) =>
    nativeKernel(name, addon, ({ inputs, backend }) => {
      const { a, b } = inputs;
      const av = floatValues(backend, a);
      const bv = floatValues(backend, b);
      if (!av || !bv) return null;
      const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = allocOutput(backend, sizeOf(shape));
      addon.binary(op, av, a.shape, bv, b.shape, out, shape);
      return output(backend, shape, out);
    }));
  const unary = Object.entries(UNARY).map(([name, op]) =>
    nativeKernel(name, addon, ({ inputs, backend }) => {
      const { x } = inputs;
      const xv = floatValues(backend, x);
      if (!xv) return null;
      const out = allocOutput(backend, xv.length);
      addon.unary(op, xv, out);
      return output(backend, x.shape.slice(), out);
    }));
  return [...binary, ...unary];
}

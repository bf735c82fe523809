// What every native kernel needs: the addon, float32 views of tensor data, and a fallback to the cpu kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import type { BufferPool } from '../buffer_pool.js';

export interface NativeKernelArgs {
  /** Inputs by name; optional ones (e.g. _FusedMatMul's bias) may be absent at run time: test before use. */
  inputs: Record<string, TensorInfo>;
  backend: MathBackendCPU;
  attrs: NamedAttrMap;
  addon: NativeAddon;
}

/** A native implementation: returns the output, or null to hand this call to tfjs-backend-cpu's kernel. */
export type NativeImpl = (args: NativeKernelArgs) => TensorInfo | TensorInfo[] | null;

/** Float32Array data of a float32 tensor, or null (other dtypes go to the cpu kernel). */
export function floatValues(backend: MathBackendCPU, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

export const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** An output array for a native kernel (recycled when the backend has a pool): the kernel must fill all of it. */
export function allocOutput(backend: MathBackendCPU, n: number): Float32Array {
  const pool = (backend as { pool?: BufferPool }).pool;
  return pool ? pool.alloc(n) : new Float32Array(n);
}

/** Wraps freshly computed values as a float32 tensor owned by the backend (no copy). */
export function output(backend: MathBackendCPU, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

/** A kernel config for backend `native` that tries `impl` and falls back to the cpu kernel of the same name. */
export function nativeKernel(kernelName: string, addon: NativeAddon, impl: NativeImpl): KernelConfig {
  const cpu = tf.getKernel(kernelName, 'cpu');
  if (!cpu) throw new Error(`@unlearn/backend-native: tfjs-backend-cpu has no "${kernelName}" kernel to fall back on`);
  const fallback = cpu.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const native = impl({ inputs: args.inputs as Record<string, TensorInfo>, backend: args.backend as MathBackendCPU, attrs: args.attrs ?? {}, addon });
    return native ?? fallback(args);
  };
  return { kernelName, backendName: 'native', kernelFunc, setupFunc: cpu.setupFunc, disposeFunc: cpu.disposeFunc };
}

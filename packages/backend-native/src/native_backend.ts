// The `native` tfjs backend: tfjs-backend-cpu's MathBackendCPU (same Float32Array tensor storage, all 172 of its
// kernels re-registered under the new name) with the kernels a transformer training step spends its time in
// replaced by the C++ addon's.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon.js';
import type { Isa, NativeAddon } from './addon.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { matmulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';
import { softmaxKernels } from './kernels/softmax.js';
import { transposeKernels } from './kernels/transpose.js';

export const NATIVE_BACKEND_NAME = 'native';

export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // MathBackendCPU prints "install tfjs-node" on first use in Node; this backend is the answer to that
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }
}

/** Kernels this package implements natively (the others run tfjs-backend-cpu's JavaScript). */
export function nativeKernelConfigs(addon: NativeAddon): KernelConfig[] {
  return [
    ...matmulKernels(addon), ...elementwiseKernels(addon), ...reduceKernels(addon), ...softmaxKernels(addon),
    ...transposeKernels(addon),
  ];
}

let registeredDetails: Record<string, string | number | boolean> | undefined;

export interface RegisterOptions {
  /** Kernel build to use (default: the best this CPU supports, or env UNLEARN_NATIVE_ISA). */
  isa?: Isa;
  /** Worker threads incl. the caller (default: env UNLEARN_NATIVE_THREADS, else the CPU count). */
  threads?: number;
  /** Backend priority for tf.setBackend's automatic choice (default 3: above cpu and wasm). */
  priority?: number;
}

/**
 * Registers the `native` backend (loads the addon, copies every cpu kernel, overrides the hot ones) and returns
 * what it runs on. Throws a one-line Error when the addon is not built or cannot load. Idempotent.
 */
export function registerNativeBackend(options: RegisterOptions = {}): Record<string, string | number | boolean> {
  const addon = loadAddon();
  if (options.isa !== undefined || options.threads !== undefined) addon.configure({ isa: options.isa, threads: options.threads });
  if (!registeredDetails) {
    // the cpu kernels register when tfjs-backend-cpu is imported (above); copy them under the new name
    const natives = nativeKernelConfigs(addon);
    const replaced = new Set(natives.map((k) => k.kernelName));
    for (const k of tf.getKernelsForBackend('cpu')) {
      if (!replaced.has(k.kernelName)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND_NAME });
    }
    for (const k of natives) tf.registerKernel(k);
    tf.registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(), options.priority ?? 3);
    registeredDetails = { nativeKernels: natives.length };
  }
  const info = addon.info();
  return { ...registeredDetails, isa: info.isa, bestIsa: info.bestIsa, threads: info.threads };
}

// The `native` tfjs backend: tfjs-backend-cpu's MathBackendCPU (same Float32Array tensor storage, all 172 of its
// kernels re-registered under the new name) with the kernels a transformer training step spends its time in
// replaced by the C++ addon's.
import * as tf from '@tensorflow/tfjs-core';
import type { backend_util, DataType, KernelConfig } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon } from './addon.js';
import type { Isa, NativeAddon } from './addon.js';
import { BufferPool } from './buffer_pool.js';
import { copyKernels } from './kernels/copy.js';
import { fillKernels } from './kernels/fill.js';
import { FUSED_KERNEL_NAMES, fusedGradients, fusedKernels } from './kernels/fused.js';
import { multinomialKernels } from './kernels/multinomial.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { matmulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';
import { softmaxKernels } from './kernels/softmax.js';
import { transposeKernels } from './kernels/transpose.js';

export const NATIVE_BACKEND_NAME = 'native';

type DataId = object;

export class NativeBackend extends MathBackendCPU {
  /** Recycled output arrays of native kernels (see buffer_pool.ts). */
  readonly pool = new BufferPool();

  constructor() {
    super();
    // MathBackendCPU prints "install tfjs-node" on first use in Node; this backend is the answer to that
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.pool.retain(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: backend_util.BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.pool.retain(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const result = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.pool.release(values);
    return result;
  }

  /** Reads hand out copies of pooled memory, so user code never holds an array a later kernel overwrites. */
  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    return this.pool.isPooled(values) ? values.slice() : values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override dispose(): void {
    this.pool.clear();
    super.dispose();
  }
}

/** Kernels this package implements natively (the others run tfjs-backend-cpu's JavaScript). */
export function nativeKernelConfigs(addon: NativeAddon): KernelConfig[] {
  return [
    ...matmulKernels(addon), ...elementwiseKernels(addon), ...reduceKernels(addon), ...softmaxKernels(addon),
    ...transposeKernels(addon), ...copyKernels(addon), ...fillKernels(addon), ...multinomialKernels(addon),
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
    // fused transformer kernels: native-only names (no cpu twin), each with its gradient. UNLEARN_NATIVE_FUSED=0 leaves
    // them out (the ops then compose tf ops, as on other backends: for before/after measurements);
    // UNLEARN_NATIVE_ATTENTION=0 leaves out only UnlearnCausalAttention (attention composes matmul + softmax again)
    const noAttention = process.env.UNLEARN_NATIVE_ATTENTION === '0';
    const fused = process.env.UNLEARN_NATIVE_FUSED === '0' ? []
      : fusedKernels(addon).filter((k) => !noAttention || !k.kernelName.startsWith(FUSED_KERNEL_NAMES.causalAttention));
    for (const k of fused) tf.registerKernel(k);
    for (const g of fused.length ? fusedGradients : []) if (fused.some((k) => k.kernelName === g.kernelName)) tf.registerGradient(g);
    tf.registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(), options.priority ?? 3);
    registeredDetails = { nativeKernels: natives.length, fusedKernels: fused.length };
  }
  const info = addon.info();
  const size = (b: number) => (b >= 1 << 20 ? `${+(b / (1 << 20)).toFixed(1)}M` : `${Math.round(b / 1024)}K`);
  const { caches: c, blocking: k, blas } = info;
  return {
    ...registeredDetails, isa: info.isa, bestIsa: info.bestIsa, threads: info.threads,
    caches: `L1 ${size(c.l1)} L2 ${size(c.l2)} L3 ${size(c.l3)}/${c.l3Sharing} (${c.source})`,
    blocking: `${k.mr}x${k.nr} KC ${k.kc} MC ${k.mc} NC ${k.nc}`,
    blas: blas.library ? `${blas.library} (${blas.policy})` : 'none',
  };
}

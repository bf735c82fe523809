// tfjs-backend-webgpu 4.22's AddN binds one storage buffer per input and ignores the device's
// maxStorageBuffersPerShaderStage (8 on most adapters): with ≥ 8 inputs the pipeline is invalid and WebGPU silently
// drops the whole queued batch of work — stale values, no error. Re-register the kernel to add in chunks that fit.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';

interface WebGPUBackendLike {
  device?: { limits?: { maxStorageBuffersPerShaderStage?: number } };
  disposeData(dataId: object): boolean;
}

const CHUNKED = Symbol.for('@unlearn/tensors/chunked-addn');

/** Replaces the webgpu AddN kernel by one that sums at most (storage-buffer limit − 1) inputs per program. */
export function registerChunkedWebgpuAddN(): void {
  const original = tf.getKernel('AddN', 'webgpu') as (KernelConfig & { [CHUNKED]?: true }) | undefined;
  if (!original || original[CHUNKED]) return;
  const add = original.kernelFunc;
  const chunked: KernelConfig & { [CHUNKED]: true } = {
    kernelName: 'AddN',
    backendName: 'webgpu',
    [CHUNKED]: true,
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WebGPUBackendLike;
      const inputs = args.inputs as unknown as TensorInfo[];
      // one storage buffer is the output
      const perProgram = Math.max(2, (backend.device?.limits?.maxStorageBuffersPerShaderStage ?? 8) - 1);
      let items = inputs;
      const partials: TensorInfo[] = [];
      while (items.length > perProgram) {
        const next: TensorInfo[] = [];
        for (let i = 0; i < items.length; i += perProgram) {
          const group = items.slice(i, i + perProgram);
          if (group.length === 1) {
            next.push(group[0]);
            continue;
          }
          const sum = add({ ...args, inputs: group as unknown as typeof args.inputs }) as TensorInfo;
          partials.push(sum);
          next.push(sum);
        }
        items = next;
      }
      const result = add({ ...args, inputs: items as unknown as typeof args.inputs }) as TensorInfo;
      for (const p of partials) backend.disposeData(p.dataId);
      return result;
    },
  };
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel(chunked);
}

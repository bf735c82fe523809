// initBackend: explicit names never fall back and say how to fix what is missing; 'auto' explains its choice.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, initBackend } from '../src/index.js';
import type { BackendName } from '../src/index.js';

const installed = async (pkg: string) => import(/* @vite-ignore */ pkg).then(() => true, () => false);

describe('initBackend', () => {
  it('an unknown name is refused with the list of known ones', async () => {
    await expect(initBackend('tpu' as BackendName)).rejects.toThrow(
      'unknown backend "tpu"; known: auto, wasm, cpu, webgpu, native, tensorflow, tensorflow-gpu',
    );
    expect(BACKEND_NAMES).toEqual(['wasm', 'cpu', 'webgpu', 'native', 'tensorflow', 'tensorflow-gpu']);
  });

  for (const [name, pkg] of [['tensorflow', '@tensorflow/tfjs-node'], ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu']] as const) {
    it(`'${name}' without ${pkg} says how to install it and that the install downloads libtensorflow`, async (ctx) => {
      if (await installed(pkg)) ctx.skip(`${pkg} is installed here; this test covers its absence`);
      const err = await initBackend(name).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      const message = (err as Error).message;
      expect(message).toContain(`${pkg} is not installed`);
      expect(message).toContain(`npm install ${pkg}@4.22`);
      expect(message).toMatch(/downloads libtensorflow/);
      expect(message).not.toContain('\n');
    });
  }

  it("'cpu' and 'wasm' activate and report themselves", async () => {
    const cpu = await initBackend('cpu');
    expect(cpu).toMatchObject({ backend: 'cpu', requested: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend('wasm');
    expect(wasm).toMatchObject({ backend: 'wasm', requested: 'wasm', details: { threads: 1 } });
    expect(typeof wasm.details.simd).toBe('boolean');
  });

  it("'auto' in Node picks native when it starts, else wasm with the reason native was skipped", async () => {
    const native = await initBackend('native').then(() => null, (e: Error) => e.message);
    const report = await initBackend('auto');
    expect(report.requested).toBe('auto');
    if (native === null) {
      expect(report.backend).toBe('native');
    } else {
      expect(report.backend).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(report.reason).toMatch(/^auto: native unavailable \(.+\); using wasm$/);
      expect(report.reason).toContain('@unlearn/backend-native');
    }
  });

  it("'webgpu' (Dawn; Mesa llvmpipe on a CPU-only machine) runs and reports its adapter, again on a second call", async () => {
    const report = await initBackend('webgpu');
    expect(report.backend).toBe('webgpu');
    expect(typeof report.details.adapter).toBe('string');
    expect((report.details.adapter as string).length).toBeGreaterThan(3);
    expect(report.details.adapterRoute).toMatch(/^dawn\//);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => tf.sum(tf.mul(tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5, 6]))));
    expect(await y.data()).toEqual(Float32Array.of(32));
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await initBackend('cpu');
    const again = await initBackend('webgpu');
    expect(again.details.adapter).toBe(report.details.adapter);
    console.log(`webgpu adapter: ${report.details.adapter} via ${report.details.adapterRoute}`);
  });
});

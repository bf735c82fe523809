// Cache-derived gemm blocking (native/blocking.h) and the optional system BLAS (native/blas.h): the sizes the addon
// reads and the blocking it derives from them (hand-derived below), the UNLEARN_NATIVE_L1/L2/L3 and _ISA overrides
// (in a child process: they are read at load), and gemm parity with tfjs-backend-cpu under blockings that cut every
// loop into several uneven blocks, and with the BLAS on and off.
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@unlearn/tensors';
import { ADDON_PATH, loadAddon, registerNativeBackend } from './index.js';
import type { AddonInfo, BlasPolicy, Isa } from './index.js';
import { expectParity, input } from './test-utils/parity.js';
import { addonBuilt as built } from './test-utils/native-suite.js';


/** addon.info() in a fresh process with `env` set before the addon loads. */
function infoWith(env: Record<string, string>): AddonInfo {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('UNLEARN_NATIVE_')));
  const out = execFileSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(ADDON_PATH)}).info()))`],
    { env: { ...clean, ...env }, encoding: 'utf8' });
  return JSON.parse(out) as AddonInfo;
}

describe.skipIf(!built)('cache blocking and system BLAS', () => {
  let defaults: { isa: Isa; threads: number; blas: BlasPolicy };
  beforeAll(() => {
    registerNativeBackend();
    const info = loadAddon().info();
    defaults = { isa: info.isa, threads: info.threads, blas: info.blas.policy };
  });
  afterAll(() => {
    loadAddon().configure(defaults);
  });

  it('derives KC, MC, NC from the cache sizes, and the overrides replace the detected sizes', () => {
    // Zen 3 forced on the AVX2 6×16 tile: KC = max(256, 32768/2/(4·16) = 256) = 256;
    // MC = 524288·3/4/(4·256) = 384 (a multiple of MR = 6); NC = (4 MiB/1)/2/(4·256) = 2048.
    const zen3 = infoWith({ UNLEARN_NATIVE_ISA: 'avx2', UNLEARN_NATIVE_L1: '32K', UNLEARN_NATIVE_L2: '512K', UNLEARN_NATIVE_L3: '4M' });
    if (zen3.isa === 'avx2') {
      expect(zen3.caches).toMatchObject({ l1: 32768, l2: 524288, l3: 4194304, l3Sharing: 1 });
      expect(zen3.caches.source).toMatch(/\+env$/);
      expect(zen3.blocking).toEqual({ mr: 6, nr: 16, kc: 256, mc: 384, nc: 2048 });
    }
    // 1 MiB L2, 32 MiB L3 for one core, generic 4×8 tile: KC = min(512, 32768/2/(4·8) = 512) = 512;
    // MC = 1048576·3/4/(4·512) = 384; NC = 32 MiB/2/(4·512) = 8192 → capped at 4096.
    const big = infoWith({ UNLEARN_NATIVE_ISA: 'generic', UNLEARN_NATIVE_L1: '32768', UNLEARN_NATIVE_L2: '1M', UNLEARN_NATIVE_L3: '32MiB' });
    expect(big.isa).toBe('generic');
    expect(big.blocking).toEqual({ mr: 4, nr: 8, kc: 512, mc: 384, nc: 4096 });
    // unparsable override: ignored (the detected size stays)
    const bad = infoWith({ UNLEARN_NATIVE_L2: 'lots' });
    expect(bad.caches.l2).toBe(loadAddon().info().caches.l2);
    expect(bad.caches.source).not.toMatch(/\+env/);
  });

  it('reads plausible cache sizes from this machine', () => {
    const { caches } = loadAddon().info();
    expect(caches.source).toMatch(/^(sysfs|cpuid|default)/);
    expect(caches.l1).toBeGreaterThanOrEqual(8 * 1024);
    expect(caches.l2).toBeGreaterThanOrEqual(caches.l1);
    expect(caches.l3).toBeGreaterThanOrEqual(caches.l2);
  });

  it('gemm matches cpu when every blocking loop splits into uneven blocks', async () => {
    const addon = loadAddon();
    for (const isa of addon.info().supportedIsas) {
      for (const threads of [1, 2]) {
        addon.configure({ isa, threads, blas: 'off' });
        const { mr, nr } = addon.info().blocking;
        addon.configure({ blocking: { kc: 24, mc: 2 * mr, nc: 3 * nr } });
        for (const [sa, sb, ta, tb] of [[[67, 130], [130, 45], false, false], [[130, 67], [45, 130], true, true],
          [[3, 50, 70], [3, 70, 29], false, false]] as [number[], number[], boolean, boolean][]) {
          await expectParity(`${isa}×${threads} small blocks ${sa}·${sb}`, [input(sa, 3), input(sb, 4)], (a, b) => tf.matMul(a, b, ta, tb));
        }
      }
    }
    addon.configure({ isa: defaults.isa, threads: defaults.threads });
    expect(addon.info().blocking.kc).toBeGreaterThanOrEqual(256); // configure({ isa }) derives the blocking again
  });

  it('2-D gemms on the system BLAS (when installed) and tuned per shape match cpu, bias and relu included', async () => {
    const addon = loadAddon();
    const { library } = addon.info().blas;
    if (!library) return; // CI without OpenBLAS / BLIS: the own kernel is all there is (covered above)
    for (const blas of ['on', 'auto'] as const) {
      addon.configure({ blas, threads: 2 });
      for (let rep = 0; rep < (blas === 'auto' ? 5 : 1); rep++) { // auto: 4 trials (both sides), then its choice
        await expectParity(`${library} ${blas} #${rep}`, [input([130, 96], 5), input([80, 96], 6)], (a, b) => tf.matMul(a, b, false, true));
        await expectParity(`${library} ${blas} fused #${rep}`, [input([96, 130], 7), input([96, 80], 8), input([80], 9)],
          (a, b, bias) => tf.fused.matMul({ a, b, bias, activation: 'relu', transposeA: true }));
      }
    }
    const stats = addon.info().blas;
    expect(stats.callsBlas).toBeGreaterThan(0);
    expect(stats.shapesMeasured).toBeGreaterThanOrEqual(2);
    expect(() => addon.configure({ blas: 'sometimes' as never })).toThrow(/blas must be "auto", "on" or "off"/);
  });
});

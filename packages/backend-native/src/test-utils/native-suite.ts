// The setup every native test file shares: whether the addon is there to test, and (inside a describe) the backend
// registered with every instruction-set build this CPU runs listed, the addon's ISA/threads restored afterwards.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { ADDON_PATH, loadAddon, registerNativeBackend } from '../index.js';
import type { Isa } from '../index.js';

/** Skip only where the addon could not build (no g++); in CI (and with UNLEARN_REQUIRE_NATIVE=1) a missing addon fails. */
export const addonBuilt = existsSync(ADDON_PATH) || !!process.env.CI || process.env.UNLEARN_REQUIRE_NATIVE === '1';

/** Call inside a describe: registers the backend before its tests; `isas()` lists the ISA builds to run them on. */
export function useNativeBackend(): { isas: () => Isa[] } {
  let isas: Isa[] = [];
  let defaults: { isa: Isa; threads: number } | undefined;
  beforeAll(() => {
    registerNativeBackend();
    const info = loadAddon().info();
    isas = info.supportedIsas;
    defaults = { isa: info.isa, threads: info.threads };
  });
  afterAll(() => {
    if (defaults) loadAddon().configure(defaults);
  });
  return { isas: () => isas };
}

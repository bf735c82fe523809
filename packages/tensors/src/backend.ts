// Backend bootstrap: one call picks and activates a TensorFlow.js backend and says why.
import * as tf from '@tensorflow/tfjs-core';
import './setup.js';
import { registerChunkedWebgpuAddN } from './webgpu-addn.js';

export type BackendName = 'wasm' | 'cpu' | 'webgpu' | 'native' | 'tensorflow' | 'tensorflow-gpu';
export type BackendRequest = BackendName | 'auto';

export interface BackendReport {
  /** The tfjs backend now active (tf.getBackend()). */
  backend: string;
  requested: BackendRequest;
  /** Why this backend: the choice and every fallback taken on the way. */
  reason: string;
  /** Extra facts worth printing (adapter name, SIMD, threads). */
  details: Record<string, string | number | boolean>;
}

export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'webgpu', 'native', 'tensorflow', 'tensorflow-gpu'];
const isNode = typeof process !== 'undefined' && !!process.versions?.node;

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs could not initialise the "${name}" backend`);
}

async function initWasm(details: BackendReport['details']): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
  await activate('wasm');
  details.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  details.threads = isNode ? 1 : Number(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? 2 : 1;
}

async function initCpu(): Promise<void> {
  await activate('cpu');
}

/** Imports an optional Node package, telling "not installed" (with how to install) apart from "fails to load". */
async function importOptional(pkg: string, install: string): Promise<void> {
  const { createRequire } = await import('node:module');
  try {
    createRequire(import.meta.url).resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed: ${install}`);
  }
  try {
    await import(/* @vite-ignore */ pkg);
  } catch (e) {
    throw new Error(`${pkg} is installed but failed to load (${(e as Error).message.split('\n')[0]}); reinstall it: ${install}`);
  }
}

/** What the first Node WebGPU initialisation learnt about the adapter; later calls report it again. */
let nodeWebgpuDetails: Record<string, string> | undefined;

async function initWebgpu(details: BackendReport['details']): Promise<void> {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (!nav?.gpu) {
    if (!isNode) throw new Error('this browser exposes no navigator.gpu (WebGPU disabled or unsupported)');
    // Node: Dawn through the `webgpu` npm package. With no hardware adapter, Dawn's OpenGL ES backend runs on
    // Mesa llvmpipe (apt: mesa-vulkan-drivers libegl1 libgles2 libegl-mesa0; EGL_PLATFORM=surfaceless).
    let mod: { create: (flags: string[]) => GPULike; globals: Record<string, unknown> };
    try {
      mod = (await import('webgpu')) as unknown as typeof mod;
    } catch (e) {
      throw new Error(`the optional "webgpu" package (Dawn for Node) failed to load: ${(e as Error).message.split('\n')[0]}`);
    }
    Object.assign(globalThis, mod.globals);
    const found: Record<string, string> = {};
    let gpu = mod.create([]);
    let adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) {
      process.env.EGL_PLATFORM ??= 'surfaceless';
      gpu = mod.create(['backend=opengles']);
      const request = gpu.requestAdapter.bind(gpu);
      gpu.requestAdapter = (o: Record<string, unknown> = {}) => request({ ...o, featureLevel: 'compatibility' });
      adapter = await gpu.requestAdapter().catch(() => null);
      if (!adapter) {
        throw new Error('no WebGPU adapter: no GPU driver and no Mesa GL (apt-get install mesa-vulkan-drivers libegl1 libgles2 libegl-mesa0)');
      }
      found.adapterRoute = 'dawn/opengles (compatibility)';
    } else {
      found.adapterRoute = 'dawn/default';
    }
    const info = (adapter as { info?: { vendor?: string; architecture?: string; device?: string; description?: string } }).info;
    const described = info && [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
    if (described) found.adapter = described;
    nodeWebgpuDetails = found;
    Object.defineProperty(globalThis, 'navigator', { value: { ...(nav ?? {}), gpu }, configurable: true, writable: true });
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  registerChunkedWebgpuAddN();
  await activate('webgpu');
  Object.assign(details, nodeWebgpuDetails);
  if (!details.adapter) {
    // Browsers (or a navigator.gpu set up by the app): tfjs-backend-webgpu keeps the adapter's vendor/architecture.
    const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
    details.adapter = [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'unknown';
  }
}
interface GPULike {
  requestAdapter(o?: Record<string, unknown>): Promise<unknown>;
}

async function initNative(details: BackendReport['details']): Promise<void> {
  // Already registered (the app called registerNativeBackend() itself): just activate it.
  if (!tf.findBackendFactory('native')) {
    const pkg = '@unlearn/backend-native';
    let mod: { registerNativeBackend?: () => Promise<Record<string, string | number | boolean>> | Record<string, string | number | boolean> };
    try {
      // A literal specifier, so bundlers and vitest resolve it; it is an optional package, absent from tensors' deps.
      // @ts-ignore optional package: not a declared dependency of @unlearn/tensors
      mod = await import('@unlearn/backend-native');
    } catch (e) {
      throw new Error(`${pkg} is not installed or its addon is not built (${(e as Error).message.split('\n')[0]})`);
    }
    if (typeof mod.registerNativeBackend !== 'function') throw new Error(`${pkg} does not export registerNativeBackend()`);
    Object.assign(details, await mod.registerNativeBackend());
  }
  await activate('native');
}

const INSTALL_HINT = (pkg: string) =>
  `npm install ${pkg}@4.22 (its install script downloads libtensorflow from storage.googleapis.com, so it needs internet access at install time)`;

async function initNamed(name: BackendName, details: BackendReport['details']): Promise<void> {
  switch (name) {
    case 'wasm':
      return initWasm(details);
    case 'cpu':
      return initCpu();
    case 'webgpu':
      return initWebgpu(details);
    case 'native':
      return initNative(details);
    case 'tensorflow':
      if (!isNode) throw new Error('the tensorflow backend (tfjs-node) runs only in Node');
      await importOptional('@tensorflow/tfjs-node', INSTALL_HINT('@tensorflow/tfjs-node'));
      return activate('tensorflow');
    case 'tensorflow-gpu':
      if (!isNode) throw new Error('the tensorflow-gpu backend (tfjs-node-gpu) runs only in Node');
      await importOptional('@tensorflow/tfjs-node-gpu', INSTALL_HINT('@tensorflow/tfjs-node-gpu'));
      return activate('tensorflow');
    default:
      throw new Error(`unknown backend "${String(name)}"; known: auto, ${BACKEND_NAMES.join(', ')}`);
  }
}

/**
 * Activates a backend. `auto`: in Node, `native` when @unlearn/backend-native is built, else `wasm`;
 * in browsers, `webgpu` when navigator.gpu exists, else `wasm`. An explicit name never falls back: it throws
 * with the reason and how to fix it.
 */
export async function initBackend(name: BackendRequest = 'auto'): Promise<BackendReport> {
  const details: BackendReport['details'] = {};
  if (name !== 'auto') {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown backend "${name}"; known: auto, ${BACKEND_NAMES.join(', ')}`);
    }
    await initNamed(name, details);
    return { backend: tf.getBackend(), requested: name, reason: `requested "${name}"`, details };
  }
  const candidates: BackendName[] = isNode
    ? ['native', 'wasm', 'cpu']
    : (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu ? ['webgpu', 'wasm', 'cpu'] : ['wasm', 'cpu'];
  const skipped: string[] = [];
  for (const c of candidates) {
    try {
      await initNamed(c, details);
      const why = skipped.length ? `auto: ${skipped.join('; ')}; using ${c}` : `auto: ${c} is the first available`;
      return { backend: tf.getBackend(), requested: 'auto', reason: why, details };
    } catch (e) {
      skipped.push(`${c} unavailable (${(e as Error).message.split('\n')[0]})`);
    }
  }
  throw new Error(`no tfjs backend could start: ${skipped.join('; ')}`);
}

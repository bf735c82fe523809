export { registerNativeBackend, NativeBackend, NATIVE_BACKEND_NAME, nativeKernelConfigs } from './native_backend.js';
export type { RegisterOptions } from './native_backend.js';
export { loadAddon, ADDON_PATH } from './addon.js';
export type { NativeAddon, AddonInfo, Isa, BlasPolicy, BlockingOverride } from './addon.js';
export { fusedAdamW } from './fused_adamw.js';
export { fusedSophia } from './fused_sophia.js';
export type { FusedSophiaOptions } from './fused_sophia.js';
export type { FusedAdamWOptions } from './fused_adamw.js';
export { FUSED_KERNEL_NAMES } from './kernels/fused.js';

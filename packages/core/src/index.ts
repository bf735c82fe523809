export * from './interfaces.js';
export { register, get, list, unregister } from './registry.js';
export type { RegistryKind, RegistryKinds } from './registry.js';

// Typed string registries (open-unlearning's TRAINER_REGISTRY / METRIC_REGISTRY pattern): a method registers a
// factory under a name; configs and the CLI look it up by that name. An unknown name fails with the known ones.
import type { MaskBuilder, Metric, Objective, Optimizer } from './interfaces.js';

/** Factories by registry kind. Options are each factory's own typed options, validated by the factory. */
export interface RegistryKinds {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  objective: (options?: any) => Objective;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  optimizer: (options?: any) => Optimizer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  mask: (options?: any) => MaskBuilder;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  metric: (options?: any) => Metric;
}
export type RegistryKind = keyof RegistryKinds;

// One store per process, even if two copies of @unlearn/core are loaded (e.g. a user's and a plugin's).
const STORE_KEY = Symbol.for('@unlearn/core/registry');
type Store = { [K in RegistryKind]: Map<string, RegistryKinds[K]> };
const globalStore = globalThis as unknown as Record<symbol, Store | undefined>;
const store: Store = (globalStore[STORE_KEY] ??= {
  objective: new Map(),
  optimizer: new Map(),
  mask: new Map(),
  metric: new Map(),
});

function table<K extends RegistryKind>(kind: K): Map<string, RegistryKinds[K]> {
  const t = store[kind] as Map<string, RegistryKinds[K]> | undefined;
  if (!t) throw new Error(`unknown registry kind "${String(kind)}"; known kinds: ${Object.keys(store).join(', ')}`);
  return t;
}

/** Registers `factory` as `name`. Registering a taken name throws unless `override` is set. */
export function register<K extends RegistryKind>(
  kind: K,
  name: string,
  factory: RegistryKinds[K],
  options: { override?: boolean } = {},
): void {
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) {
    throw new Error(`invalid ${kind} name "${name}": use letters, digits, '-', '_' or '.'`);
  }
  const t = table(kind);
  if (t.has(name) && !options.override) {
    throw new Error(`${kind} "${name}" is already registered (pass { override: true } to replace it)`);
  }
  t.set(name, factory);
}

/** The factory registered as `name`; throws with the list of known names if there is none. */
export function get<K extends RegistryKind>(kind: K, name: string): RegistryKinds[K] {
  const f = table(kind).get(name);
  if (!f) {
    const known = list(kind);
    throw new Error(`unknown ${kind} "${name}"; known ${kind}s: ${known.length ? known.join(', ') : '(none registered)'}`);
  }
  return f;
}

/** Registered names of `kind`, sorted. */
export function list(kind: RegistryKind): string[] {
  return [...table(kind).keys()].sort();
}

/** Removes `name` (for tests and plugins that replace themselves); returns whether it was registered. */
export function unregister(kind: RegistryKind, name: string): boolean {
  return table(kind).delete(name);
}

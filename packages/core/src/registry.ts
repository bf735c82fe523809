// Typed string registries (open-unlearning's TRAINER_REGISTRY / METRIC_REGISTRY pattern): a method registers a
// factory under a name; configs and the CLI look it up by that name. An unknown name fails with the known ones.
// Every implementation carries `specificationVersion` (vercel/ai's provider pattern): `register` refuses a factory that
// declares another version, and the factory `get` returns refuses a product whose version is missing or different.
// `parseOptions` is the one way factories validate their options (a zod schema, or anything with zod's `safeParse`).
import { specificationVersion, type MaskBuilder, type Metric, type Objective, type Optimizer } from './interfaces.js';

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

const describeVersion = (v: unknown) => (v === undefined ? 'no specificationVersion' : `specificationVersion ${JSON.stringify(v)}`);

/**
 * Throws unless `impl` carries this core's `specificationVersion` ('v1'); `what` names it in the one-line error.
 * The registry applies it to every product of `get`; call it on implementations that reach you another way.
 */
export function checkSpecification(what: string, impl: unknown): void {
  const v = (impl as { specificationVersion?: unknown } | null)?.specificationVersion;
  if (v !== specificationVersion) {
    throw new Error(`${what} has ${describeVersion(v)}; this @unlearn/core implements "${specificationVersion}" (add specificationVersion: '${specificationVersion}' or rebuild it against this version)`);
  }
}

/**
 * Registers `factory` as `name`. Registering a taken name throws unless `override` is set. A factory may declare the
 * version it produces (`factory.specificationVersion`); a different one than this core's is refused here.
 */
export function register<K extends RegistryKind>(
  kind: K,
  name: string,
  factory: RegistryKinds[K],
  options: { override?: boolean } = {},
): void {
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) {
    throw new Error(`invalid ${kind} name "${name}": use letters, digits, '-', '_' or '.'`);
  }
  if (typeof factory !== 'function') throw new Error(`${kind} "${name}": register a factory function, got ${typeof factory}`);
  const declared = (factory as { specificationVersion?: unknown }).specificationVersion;
  if (declared !== undefined) checkSpecification(`${kind} factory "${name}"`, factory);
  const t = table(kind);
  if (t.has(name) && !options.override) {
    throw new Error(`${kind} "${name}" is already registered (pass { override: true } to replace it)`);
  }
  t.set(name, factory);
}

/**
 * The factory registered as `name`; throws with the list of known names if there is none. What it builds is checked:
 * an implementation without this core's `specificationVersion` is refused with a one-line error.
 */
export function get<K extends RegistryKind>(kind: K, name: string): RegistryKinds[K] {
  const f = table(kind).get(name) as ((options?: unknown) => unknown) | undefined;
  if (!f) {
    const known = list(kind);
    throw new Error(`unknown ${kind} "${name}"; known ${kind}s: ${known.length ? known.join(', ') : '(none registered)'}`);
  }
  const checked = (options?: unknown) => {
    const impl = f(options);
    checkSpecification(`${kind} "${name}"`, impl);
    return impl;
  };
  return checked as RegistryKinds[K];
}

/** Registered names of `kind`, sorted. */
export function list(kind: RegistryKind): string[] {
  return [...table(kind).keys()].sort();
}

/** Removes `name` (for tests and plugins that replace themselves); returns whether it was registered. */
export function unregister(kind: RegistryKind, name: string): boolean {
  return table(kind).delete(name);
}

/** One problem a schema reports (zod's `ZodIssue` has this shape). */
export interface OptionsIssue {
  code: string;
  path: readonly (string | number)[];
  message: string;
  keys?: readonly string[];
}

/** What `parseOptions` needs of a schema: zod's `safeParse` (any zod schema qualifies). */
export interface OptionsSchema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: readonly OptionsIssue[] } };
}

/**
 * Parses a factory's `input` options with `schema` (strict zod objects: a typo fails); throws
 * `<name>: invalid options: <field>: <problem>; ...` on one line. `undefined` parses as `{}`.
 */
export function parseOptions<T>(name: string, schema: OptionsSchema<T>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    issue.code === 'unrecognized_keys' && issue.keys
      ? `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
  );
  throw new Error(`${name}: invalid options: ${problems.join('; ')}`);
}

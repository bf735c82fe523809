// Reads a YAML/JSON run config, merges flag overrides, validates it and formats every problem on one line:
//   config.yaml: optimizer.name: "sophai" is not one of adamw, sgd, sophia
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { runConfigSchema, type RunConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Keys whose values are file paths; in a config file they resolve against the file's folder. */
const PATH_KEYS = ['out', 'model.path', 'model.tokenizer', 'data.dir', 'eval.retainModel', 'eval.retainEval', 'lora.adapter'];

function keyPath(p: readonly (string | number)[]): string {
  return p.length ? p.join('.') : '(top level)';
}

function describeValue(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v);
}

function getAt(obj: unknown, p: readonly (string | number)[]): unknown {
  let cur = obj;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** Allowed keys of the strict object at `p` in the schema, for "unknown key" messages. */
function allowedKeys(p: readonly (string | number)[]): string[] {
  let s: z.ZodTypeAny = runConfigSchema;
  for (const k of [...p, null]) {
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodEffects) {
      s = s instanceof z.ZodEffects ? s.innerType() : s._def.innerType;
    }
    if (k === null) break;
    if (!(s instanceof z.ZodObject)) return [];
    s = (s.shape as Record<string, z.ZodTypeAny>)[k];
    if (!s) return [];
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** One line per issue: `<key>: <problem>`, naming the value and what is allowed. */
export function formatIssue(issue: z.ZodIssue, input: unknown): string {
  const where = keyPath(issue.path);
  const value = getAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_enum_value':
      return `${where}: ${describeValue(issue.received)} is not one of ${issue.options.join(', ')}`;
    case 'unrecognized_keys': {
      const allowed = allowedKeys(issue.path);
      return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (allowed: ${allowed.join(', ')})`;
    }
    case 'invalid_type':
      if (issue.received === 'undefined') return `${where}: is required (expected ${issue.expected})`;
      return `${where}: expected ${issue.expected}, got ${issue.received} ${describeValue(value)}`;
    case 'too_small':
    case 'too_big':
      return `${where}: ${describeValue(value)} — ${issue.message.replace(/^Number must be /, 'must be ')}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Validates a plain object; throws a ConfigError whose message has one line per problem, each prefixed by `source`. */
export function validateRunConfig(
  input: unknown,
  source: string | ((key: string) => string) = 'config',
): RunConfig {
  const result = runConfigSchema.safeParse(input);
  if (result.success) {
    // paths from flags and defaults are relative to the working directory: make them absolute, so config.yaml, logs
    // and error messages name the real file (a config file's own relative paths were resolved against its folder)
    resolvePaths(result.data as unknown as Record<string, unknown>, process.cwd());
    return result.data;
  }
  const label = typeof source === 'string' ? () => source : source;
  const lines = result.error.issues.map((i) => {
    const where = label(i.path.join('.'));
    const line = formatIssue(i, input);
    // A flag names its key already: `--optimizer-name: "sophai" is not one of …`.
    return where.startsWith('--') ? `${where}: ${line.slice(line.indexOf(': ') + 2)}` : `${where}: ${line}`;
  });
  throw new ConfigError([...new Set(lines)].join('\n'));
}

function resolvePaths(obj: Record<string, unknown>, baseDir: string): void {
  for (const key of PATH_KEYS) {
    const parts = key.split('.');
    const parent = getAt(obj, parts.slice(0, -1)) as Record<string, unknown> | undefined;
    const leaf = parts[parts.length - 1];
    if (parent && typeof parent === 'object' && typeof parent[leaf] === 'string') {
      parent[leaf] = path.resolve(baseDir, parent[leaf] as string);
    }
  }
}

/** Parses a YAML or JSON file into a plain object (not yet validated); relative paths resolve against its folder. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const name = path.resolve(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${name}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const msg = e instanceof YAMLParseError ? `${e.message.split('\n')[0]}` : (e as Error).message;
    throw new ConfigError(`${name}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${msg}`);
  }
  if (parsed === null || parsed === undefined) parsed = {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${name}: the top level must be a mapping of sections (model, data, optimizer, …)`);
  }
  // a run folder's own config.yaml records which command wrote it: informational, so it reads back as a config
  const { command, ...rest } = parsed as Record<string, unknown>;
  if (command !== undefined && !['finetune', 'unlearn', 'eval'].includes(command as string)) {
    throw new ConfigError(`${name}: command: ${JSON.stringify(command)} is not one of finetune, unlearn, eval`);
  }
  resolvePaths(rest, path.dirname(path.resolve(file)));
  return rest;
}

/** Deep-merges `override` into `base` (objects merge, everything else replaces). Returns a new object. */
export function mergeConfig(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Command defaults, then the file (optional), then flag overrides → a validated RunConfig. Errors name the file (or "flags") and the key. */
export async function loadRunConfig(
  file: string | undefined,
  overrides: Record<string, unknown> = {},
  flagByKey: ReadonlyMap<string, string> = new Map(),
  defaults: Record<string, unknown> = {},
): Promise<RunConfig> {
  const base = file ? await readConfigFile(file) : {};
  const merged = mergeConfig(mergeConfig(defaults, base), overrides);
  const fileName = file ? path.resolve(file) : 'config';
  return validateRunConfig(merged, (key) => {
    for (const [k, flag] of flagByKey) if (key === k) return flag;
    for (const [k, flag] of flagByKey) if (key.startsWith(`${k}.`)) return `${flag} (${key})`;
    return fileName;
  });
}

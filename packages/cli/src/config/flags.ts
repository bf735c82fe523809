// Every run-config key is also a flag, derived from the schema so the two can never drift apart:
// `optimizer.lr` ⇄ `--optimizer-lr <number>`, `objective.options` ⇄ `--objective-options '{"beta":0.1}'` or `beta=0.1`.
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { list } from '@unlearn/core';
import { REGISTRY_KEYS, runConfigSchema } from '@unlearn/pipeline';

export interface FlagSpec {
  /** Dotted config key, e.g. `optimizer.lr`. */
  key: string;
  /** Long flag, e.g. `--optimizer-lr`. */
  flag: string;
  /** commander's attribute name for it. */
  attribute: string;
  kind: 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'record' | 'registry' | 'list';
  choices?: readonly string[];
  description: string;
}

/** Sections that also take one flag for the whole section: `--lora r=8,alpha=16,targets=q_proj,v_proj`. */
const SECTION_FLAGS = new Set(['lora']);

/** Short names for the keys people type most. */
const SHORT: Record<string, string> = { 'log.quiet': 'quiet' };

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function unwrap(s: z.ZodTypeAny): { inner: z.ZodTypeAny; description?: string } {
  let description = s.description;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodEffects) {
    s = s instanceof z.ZodEffects ? s.innerType() : s._def.innerType;
    description ??= s.description;
  }
  return { inner: s, description };
}

function walk(schema: z.ZodTypeAny, prefix: string[], out: FlagSpec[]): void {
  const { inner, description } = unwrap(schema);
  if (inner instanceof z.ZodObject && !prefix.includes('create')) {
    const section = prefix.join('.');
    if (SECTION_FLAGS.has(section)) out.push({ key: section, flag: `--${section}`, attribute: camel(section), kind: 'record', description: description ?? section });
    for (const [k, v] of Object.entries(inner.shape as Record<string, z.ZodTypeAny>)) walk(v, [...prefix, k], out);
    return;
  }
  const key = prefix.join('.');
  const name = SHORT[key] ?? prefix.map(kebab).join('-');
  let kind: FlagSpec['kind'] = 'string';
  let choices: readonly string[] | undefined;
  if (REGISTRY_KEYS[key]) kind = 'registry';
  else if (inner instanceof z.ZodNumber) kind = inner.isInt ? 'integer' : 'number';
  else if (inner instanceof z.ZodBoolean) kind = 'boolean';
  else if (inner instanceof z.ZodEnum) {
    kind = 'enum';
    choices = inner.options as string[];
  } else if (inner instanceof z.ZodRecord) kind = 'record';
  else if (inner instanceof z.ZodArray) kind = 'list';
  out.push({ key, flag: `--${name}`, attribute: camel(name), kind, choices, description: description ?? key });
}

/** The flag for every config key, in schema order. */
export function configFlags(): FlagSpec[] {
  const out: FlagSpec[] = [];
  walk(runConfigSchema, [], out);
  return out;
}

function parseRecord(flag: string, text: string): Record<string, unknown> {
  const t = text.trim();
  if (t.startsWith('{')) {
    try {
      return JSON.parse(t) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${flag}: not valid JSON: ${(e as Error).message}`);
    }
  }
  const out: Record<string, unknown> = {};
  let last: string | undefined;
  for (const pair of t.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    // `targets=q_proj,v_proj`: a bare item after key=value continues that key's value as a list
    if (eq < 0 && last !== undefined) {
      out[last] = [...(Array.isArray(out[last]) ? (out[last] as unknown[]) : [out[last]]), pair.trim()];
      continue;
    }
    if (eq <= 0) throw new Error(`${flag}: expected key=value[,key=value…] or a JSON object, got "${pair}"`);
    const raw = pair.slice(eq + 1).trim();
    const num = Number(raw);
    last = pair.slice(0, eq).trim();
    out[last] =
      raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(num) ? num : raw;
  }
  return out;
}

/** Parses a flag's text as its config type. Leaves validation of ranges and names to the schema. */
export function parseFlagValue(spec: FlagSpec, text: string | boolean): unknown {
  if (spec.kind === 'boolean') {
    if (typeof text === 'boolean') return text;
    if (/^(true|1|yes|on)$/i.test(text)) return true;
    if (/^(false|0|no|off)$/i.test(text)) return false;
    throw new Error(`${spec.flag}: expected true or false, got "${text}"`);
  }
  if (typeof text === 'boolean') throw new Error(`${spec.flag}: needs a value`);
  if (spec.kind === 'number' || spec.kind === 'integer') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${spec.flag}: expected a number, got "${text}"`);
    return n;
  }
  if (spec.kind === 'record') return parseRecord(spec.flag, text);
  if (spec.kind === 'list') return text.split(',').map((x) => x.trim()).filter(Boolean);
  return text;
}

/** Adds every config flag to `cmd`, but those of the `exclude`d keys or sections (e.g. `training` for eval). */
export function addConfigFlags(cmd: Command, exclude: readonly string[] = []): Command {
  for (const spec of configFlags()) {
    if (exclude.some((k) => spec.key === k || spec.key.startsWith(`${k}.`))) continue;
    const arg = spec.kind === 'boolean' ? ' [bool]' : spec.kind === 'record' ? ' <json|k=v,…>' : spec.kind === 'list' ? ' <a,b,…>' : ` <${spec.kind === 'enum' || spec.kind === 'registry' ? 'name' : spec.kind}>`;
    const choices = spec.kind === 'registry' ? list(REGISTRY_KEYS[spec.key]) : spec.choices;
    const desc = choices ? `${spec.description} (${choices.join(', ')})` : spec.description;
    cmd.addOption(new Option(`${spec.flag}${arg}`, desc));
  }
  return cmd;
}

/** commander's parsed options → a nested override object, plus which flag set each key (for error messages). */
export function flagOverrides(opts: Record<string, unknown>): { overrides: Record<string, unknown>; flagByKey: Map<string, string> } {
  const overrides: Record<string, unknown> = {};
  const flagByKey = new Map<string, string>();
  for (const spec of configFlags()) {
    const v = opts[spec.attribute];
    if (v === undefined) continue;
    const parts = spec.key.split('.');
    let cur = overrides;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    cur[parts[parts.length - 1]] = parseFlagValue(spec, v as string | boolean);
    flagByKey.set(spec.key, spec.flag);
  }
  return { overrides, flagByKey };
}

// Hugging Face checkpoints as a folder: either one `model.safetensors`, or shards `model-00001-of-0000N.safetensors`
// listed by `model.safetensors.index.json` = {"metadata": {"total_size": bytes}, "weight_map": {tensor: shard file}}
// (the layout transformers' save_pretrained(max_shard_size=..) writes and from_pretrained reads).
// Reading is two-phase: openSafetensorsFolder reads and checks every header (no tensor data), so a caller can
// validate names, dtypes and shapes against its own expectations before `load` allocates anything.
import type { Tensor } from '@tensorflow/tfjs-core';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  SafetensorsError, fail, quote, readSafetensors, readSafetensorsHeader, storedBytes, writeFileAtomic, writeSafetensors,
} from './safetensors.js';
import type { SafetensorsContents, SafetensorsEntry, SafetensorsHeader } from './safetensors.js';

export interface CheckpointNames {
  /** File-name stem: `model` → model.safetensors, model.safetensors.index.json, model-00001-of-00002.safetensors. */
  baseName?: string;
}

const singleName = (base: string) => `${base}.safetensors`;
const indexName = (base: string) => `${base}.safetensors.index.json`;
const shardName = (base: string, i: number, n: number) =>
  `${base}-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const exists = async (p: string): Promise<boolean> => fsp.stat(p).then((s) => s.isFile(), () => false);

/** One tensor of a checkpoint as its header describes it, and the file that holds it. */
export interface CheckpointEntry extends SafetensorsEntry {
  /** Path of the .safetensors file holding the tensor (the location joined with the shard name). */
  file: string;
}

/** A checkpoint whose headers have been read and checked; no tensor is allocated until `load`. */
export interface SafetensorsFolder {
  /** The file that lists the tensors: the single .safetensors file, or the index of a sharded checkpoint. */
  source: string;
  /** Every tensor by name, in file order (shards in index order, then header order). */
  entries: ReadonlyMap<string, CheckpointEntry>;
  /** `__metadata__` of the files, merged. */
  metadata: Record<string, string>;
  /**
   * Reads the named tensors (default: all), one shard at a time, streaming. A name the checkpoint lacks, or a file
   * whose header changed since it was opened, is an error. All-or-nothing: on error no tensor stays allocated.
   */
  load(names?: Iterable<string>): Promise<SafetensorsContents>;
}

/**
 * Opens a checkpoint: `location` is a `.safetensors` file, a `.safetensors.index.json` file, or a folder holding
 * `model.safetensors` (preferred, as transformers does) or `model.safetensors.index.json` + its shards.
 * Reads every header and checks that every tensor of the index is in the shard it names, and every tensor of a shard
 * is in the index. Reads no tensor data.
 */
export async function openSafetensorsFolder(location: string, options: CheckpointNames = {}): Promise<SafetensorsFolder> {
  const base = options.baseName ?? 'model';
  let stat;
  try {
    stat = await fsp.stat(location);
  } catch (e) {
    return fail(location, `cannot read checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (stat.isFile()) return location.endsWith('.json') ? openSharded(location) : openSingle(location);
  const single = path.join(location, singleName(base));
  if (await exists(single)) return openSingle(single);
  const index = path.join(location, indexName(base));
  if (await exists(index)) return openSharded(index);
  return fail(location, `no ${singleName(base)} and no ${indexName(base)} in this folder`);
}

/**
 * Reads a whole checkpoint (see openSafetensorsFolder for the locations accepted and the checks made) into tf tensors.
 * All-or-nothing: on error no tensor stays allocated.
 */
export async function readSafetensorsFolder(location: string, options: CheckpointNames = {}): Promise<SafetensorsContents> {
  return (await openSafetensorsFolder(location, options)).load();
}

/** Parses and checks an index file; returns shard file → tensor names (in index order). */
async function readIndex(indexFile: string): Promise<Map<string, string[]>> {
  let text: string;
  try {
    text = await fsp.readFile(indexFile, 'utf8');
  } catch (e) {
    return fail(indexFile, `cannot read index (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(indexFile, `index is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    return fail(indexFile, 'index has no "weight_map" object');
  }
  const shards = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !shard.endsWith('.safetensors') || path.isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
      fail(indexFile, `weight_map[${quote(tensor)}] = ${JSON.stringify(shard)} is not a .safetensors file inside the folder`);
    }
    const list = shards.get(shard as string) ?? [];
    list.push(tensor);
    shards.set(shard as string, list);
  }
  if (shards.size === 0) fail(indexFile, 'weight_map is empty');
  return shards;
}

async function openSingle(file: string): Promise<SafetensorsFolder> {
  return folderOf(file, [[file, await readSafetensorsHeader(file)]]);
}

async function openSharded(indexFile: string): Promise<SafetensorsFolder> {
  const dir = path.dirname(indexFile);
  const shards = await readIndex(indexFile);
  // Check every shard exists before reading any header: a missing shard fails fast.
  for (const [shard, names] of shards) {
    if (!(await exists(path.join(dir, shard)))) {
      fail(indexFile, `shard ${quote(shard)} (holding ${names.length} tensor${names.length === 1 ? '' : 's'}, e.g. ${quote(names[0])}) is missing`);
    }
  }
  const headers: [string, SafetensorsHeader][] = [];
  for (const [shard, names] of shards) {
    const file = path.join(dir, shard);
    const header = await readSafetensorsHeader(file);
    const held = new Set(header.entries.map((e) => e.name));
    const missing = names.filter((n) => !held.has(n));
    if (missing.length) {
      fail(file, `${missing.length} tensor(s) listed for this shard in ${path.basename(indexFile)} are missing: ${missing.slice(0, 5).map(quote).join(', ')}`);
    }
    const listed = new Set(names);
    const extra = [...held].filter((n) => !listed.has(n));
    if (extra.length) {
      fail(file, `${extra.length} tensor(s) are not listed for this shard in ${path.basename(indexFile)}: ${extra.slice(0, 5).map(quote).join(', ')}`);
    }
    headers.push([file, header]);
  }
  return folderOf(indexFile, headers);
}

const sameEntry = (a: SafetensorsEntry, b: SafetensorsEntry) =>
  a.dtype === b.dtype && a.begin === b.begin && a.end === b.end && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** The opened checkpoint over checked headers; `files` holds each file once, so a tensor name is in one file only. */
function folderOf(source: string, files: [string, SafetensorsHeader][]): SafetensorsFolder {
  const entries = new Map<string, CheckpointEntry>();
  const metadata = Object.create(null) as Record<string, string>;
  for (const [file, header] of files) {
    for (const e of header.entries) entries.set(e.name, { ...e, file });
    Object.assign(metadata, header.metadata);
  }
  const load = async (names?: Iterable<string>): Promise<SafetensorsContents> => {
    const wanted = names === undefined ? new Set(entries.keys()) : new Set(names);
    for (const name of wanted) if (!entries.has(name)) fail(source, `no tensor ${quote(name)} in this checkpoint`);
    const out: SafetensorsContents = { tensors: new Map<string, Tensor>(), metadata: Object.assign(Object.create(null) as Record<string, string>, metadata), dtypes: new Map() };
    try {
      for (const [file, opened] of files) {
        const here = opened.entries.filter((e) => wanted.has(e.name));
        if (here.length === 0) continue;
        const part = await readSafetensors(file, {
          names: here.map((e) => e.name),
          // What was validated at open time is what gets allocated: a file rewritten in between is refused.
          check: (header) => {
            const now = new Map(header.entries.map((e) => [e.name, e]));
            for (const e of here) {
              const current = now.get(e.name);
              if (!current || !sameEntry(e, current)) fail(file, `tensor ${quote(e.name)} changed since the checkpoint was opened`);
            }
          },
        });
        for (const [n, t] of part.tensors) {
          out.tensors.set(n, t);
          out.dtypes.set(n, part.dtypes.get(n)!);
        }
      }
    } catch (e) {
      for (const t of out.tensors.values()) t.dispose();
      throw e;
    }
    return out;
  };
  return { source, entries, metadata, load };
}

export interface WriteCheckpointOptions extends CheckpointNames {
  /** Start a new shard before a tensor that would push the current one past this many data bytes (default: no sharding).
   *  A tensor larger than the limit gets a shard of its own. */
  maxShardBytes?: number;
  /** `__metadata__` written into every file (e.g. {format: 'pt'}, which transformers expects). */
  metadata?: Record<string, string>;
}

export interface WrittenCheckpoint {
  /** Files written, relative to the folder: the single file, or the shards followed by the index. */
  files: string[];
  totalBytes: number;
}

/**
 * Writes tensors into `dir` as one `model.safetensors` or, when they exceed `maxShardBytes`, as shards plus
 * `model.safetensors.index.json`. Each file is written atomically; shards are written before the index, and files of
 * an earlier checkpoint with the same base name (single file, index, shards) are removed only after, so the folder
 * always holds one complete checkpoint. Shards are filled greedily in the map's order (keeps layers together).
 */
export async function writeSafetensorsFolder(
  dir: string, tensors: ReadonlyMap<string, Tensor>, options: WriteCheckpointOptions = {},
): Promise<WrittenCheckpoint> {
  const base = options.baseName ?? 'model';
  const max = options.maxShardBytes ?? Infinity;
  if (!(max > 0)) throw new SafetensorsError(`${dir}: maxShardBytes must be positive, got ${max}`);
  const groups: string[][] = [];
  let current: string[] = [];
  let currentBytes = 0;
  let totalBytes = 0;
  for (const [name, t] of tensors) {
    const bytes = storedBytes(t, name);
    if (current.length && currentBytes + bytes > max) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(name);
    currentBytes += bytes;
    totalBytes += bytes;
  }
  if (current.length || groups.length === 0) groups.push(current);
  await fsp.mkdir(dir, { recursive: true });
  const before = new Set(await fsp.readdir(dir));
  const written: string[] = [];
  const pick = (names: string[]) => new Map(names.map((n) => [n, tensors.get(n)!]));
  if (groups.length === 1) {
    written.push(singleName(base));
    await writeSafetensors(path.join(dir, singleName(base)), tensors, options.metadata);
  } else {
    const weightMap: Record<string, string> = {};
    for (let i = 0; i < groups.length; i++) {
      const shard = shardName(base, i + 1, groups.length);
      await writeSafetensors(path.join(dir, shard), pick(groups[i]), options.metadata);
      for (const n of groups[i]) weightMap[n] = shard;
      written.push(shard);
    }
    const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
    const index = { metadata: { total_size: totalBytes }, weight_map: sortedMap };
    await writeFileAtomic(path.join(dir, indexName(base)), JSON.stringify(index, null, 2) + '\n');
    written.push(indexName(base));
  }
  // Remove what an earlier save with this base name left and this one did not rewrite.
  const ours = new RegExp(`^(${escapeRe(singleName(base))}|${escapeRe(indexName(base))}|${escapeRe(base)}-\\d{5}-of-\\d{5}\\.safetensors)$`);
  const keep = new Set(written);
  for (const f of before) {
    if (ours.test(f) && !keep.has(f)) await fsp.rm(path.join(dir, f), { force: true });
  }
  return { files: written, totalBytes };
}

// Trainer checkpoints: a named set of files written atomically through a small injectable IO, so @unlearn/core needs
// no node:fs at import time (browsers can keep checkpoints in memory or IndexedDB through their own CheckpointIO).
// Tensors are stored as safetensors (https://github.com/huggingface/safetensors#format): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TensorMap } from './interfaces.js';

/** Where checkpoints live. `save` must be atomic: afterwards either every file of `name` is visible or none is. */
export interface CheckpointIO {
  /** Human-readable location for messages (a directory path, "memory"). */
  readonly where: string;
  save(name: string, files: Record<string, Uint8Array>): Promise<void>;
  /** The files of checkpoint `name`, or null when there is none. */
  load(name: string): Promise<Record<string, Uint8Array> | null>;
  /** Names of the complete checkpoints present. */
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

const DTYPES = { float32: 'F32', int32: 'I32' } as const;

/** Encodes tensors (float32 / int32) as one safetensors file. Reads each tensor's data once. */
export async function encodeTensors(tensors: TensorMap, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const dtype = DTYPES[t.dtype as keyof typeof DTYPES];
    if (!dtype) throw new Error(`checkpoint: tensor "${name}" has dtype ${t.dtype}; only float32 and int32 are stored`);
    const data = (await t.data()) as Float32Array | Int32Array;
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Decodes a safetensors file written by {@link encodeTensors}; `file` names it in errors. The caller disposes the tensors. */
export function decodeTensors(bytes: Uint8Array, file: string): { tensors: TensorMap; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for a safetensors header`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.byteLength) fail(`header length ${n} runs past the end of the ${bytes.byteLength}-byte file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + n;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  try {
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = entry as Record<string, string>;
        continue;
      }
      const { dtype, shape, data_offsets: [begin, end] } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
      const size = shape.reduce((a, b) => a * b, 1);
      if (dtype !== 'F32' && dtype !== 'I32') fail(`tensor "${name}": dtype ${dtype} is not F32 or I32`);
      if (end - begin !== size * 4 || dataStart + end > bytes.byteLength) fail(`tensor "${name}": data_offsets [${begin}, ${end}] do not fit shape [${shape}] in the file`);
      const raw = bytes.slice(dataStart + begin, dataStart + end).buffer;
      const data = dtype === 'F32' ? new Float32Array(raw) : new Int32Array(raw);
      tensors.set(name, tf.tensor(data, shape, dtype === 'F32' ? 'float32' : 'int32'));
    }
  } catch (e) {
    tf.dispose([...tensors.values()]);
    throw e;
  }
  return { tensors, metadata };
}

/** Checkpoints kept in this process's memory (tests, browsers without storage). */
export function memoryCheckpointIO(): CheckpointIO {
  const store = new Map<string, Record<string, Uint8Array>>();
  return {
    where: 'memory',
    async save(name, files) {
      store.set(name, Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.slice()])));
    },
    async load(name) {
      return store.get(name) ?? null;
    },
    async list() {
      return [...store.keys()];
    },
    async remove(name) {
      store.delete(name);
    },
  };
}

/**
 * Checkpoints as directories under `root` (Node). Each is written into a temporary sibling directory and renamed into
 * place, so a crash leaves either the complete checkpoint or none. node:fs is imported on first use, not at load time.
 */
export function directoryCheckpointIO(root: string): CheckpointIO {
  const fs = async () => {
    const [fsp, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    return { fsp, path };
  };
  return {
    where: root,
    async save(name, files) {
      const { fsp, path } = await fs();
      await fsp.mkdir(root, { recursive: true });
      const tmp = path.join(root, `.tmp-${name}-${process.pid}-${Date.now()}`);
      const final = path.join(root, name);
      await fsp.mkdir(tmp);
      try {
        for (const [file, bytes] of Object.entries(files)) {
          const handle = await fsp.open(path.join(tmp, file), 'w');
          try {
            await handle.writeFile(bytes);
            await handle.sync();
          } finally {
            await handle.close();
          }
        }
        const old = `${final}.old-${process.pid}-${Date.now()}`;
        const existed = await fsp.rename(final, old).then(() => true, () => false);
        await fsp.rename(tmp, final);
        if (existed) await fsp.rm(old, { recursive: true, force: true });
      } catch (e) {
        await fsp.rm(tmp, { recursive: true, force: true });
        throw e;
      }
    },
    async load(name) {
      const { fsp, path } = await fs();
      const dir = path.join(root, name);
      const entries = await fsp.readdir(dir).catch(() => null);
      if (!entries) return null;
      const files: Record<string, Uint8Array> = {};
      for (const file of entries) files[file] = new Uint8Array(await fsp.readFile(path.join(dir, file)));
      return files;
    },
    async list() {
      const { fsp } = await fs();
      const entries = await fsp.readdir(root, { withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.includes('.old-')).map((e) => e.name);
    },
    async remove(name) {
      const { fsp, path } = await fs();
      await fsp.rm(path.join(root, name), { recursive: true, force: true });
    },
  };
}

/** Disposes every tensor of the maps. */
export function disposeMaps(...maps: (Map<string, Tensor> | undefined)[]): void {
  for (const m of maps) if (m) tf.dispose([...m.values()]);
}

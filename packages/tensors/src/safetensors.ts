// safetensors IO (https://github.com/huggingface/safetensors#format): an 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}, then the data buffer.
// Every check here produces a one-line error naming the file (and tensor). A corrupt file never crashes, hangs or
// triggers an allocation sized by a header number: the header length is checked against the file size before it
// is read, and each tensor's buffer is sized by its validated byte range (4 bytes per stored element at most, as
// tfjs widens every dtype to float32/int32).
// Sharded checkpoints (`model.safetensors.index.json` + shards) live in ./safetensors-shards.ts.
// The codec (bytes ⇄ tensors, no node:fs) lives in ./safetensors-codec.ts; this file adds the file system.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Tensor } from '@tensorflow/tfjs-core';
import {
  decodeTensorBytes, encodeSafetensors, fail, headerLength, makeTensor, parseSafetensorsHeader, quote,
  type SafetensorsContents, type SafetensorsDtype, type SafetensorsHeader,
} from './safetensors-codec.js';

export * from './safetensors-codec.js';

const ioError = (file: string, what: string, e: unknown): never =>
  fail(file, `cannot ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]})`);

/** Fills `into` from the file at `position`; `what` names the bytes in the error. */
type ReadExactly = (into: Uint8Array, position: number, what: string) => Promise<void>;

/** Opens `file` read-only, hands `use` an exact reader and the file's size, and closes the file whatever happens. */
async function withFile<T>(file: string, use: (readExactly: ReadExactly, size: number) => Promise<T>): Promise<T> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    return ioError(file, 'open file', e);
  }
  try {
    const readExactly: ReadExactly = async (into, position, what) => {
      let done = 0;
      while (done < into.byteLength) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await fh.read(into, done, into.byteLength - done, position + done));
        } catch (e) {
          return ioError(file, `read ${what}`, e);
        }
        if (bytesRead === 0) fail(file, `file ended while reading ${what} (changed while being read?)`);
        done += bytesRead;
      }
    };
    let size: number;
    try {
      size = (await fh.stat()).size;
    } catch (e) {
      return ioError(file, 'stat file', e);
    }
    return await use(readExactly, size);
  } finally {
    await fh.close();
  }
}

/** Reads the first 8 + N bytes (never more than the file holds) and validates them against the file size. */
async function readHeaderWith(readExactly: ReadExactly, size: number, file: string): Promise<SafetensorsHeader> {
  const first8 = new Uint8Array(Math.min(8, size));
  await readExactly(first8, 0, 'the header length');
  const headerLen = headerLength(first8, file, size);
  const headerBytes = new Uint8Array(8 + headerLen);
  await readExactly(headerBytes, 0, 'the header');
  return parseSafetensorsHeader(headerBytes, file, size);
}

/** Reads and validates only the header of a safetensors file: names, dtypes, shapes and byte ranges, no tensor data. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  return withFile(file, (readExactly, size) => readHeaderWith(readExactly, size, file));
}

export interface ReadSafetensorsOptions {
  /** Read only these tensors (default: all); a name the file does not hold is an error. */
  names?: Iterable<string>;
  /** Called with the validated header before any tensor is allocated; throw to refuse the file. */
  check?: (header: SafetensorsHeader) => void;
}

/**
 * Reads a safetensors file into tf tensors (float32 / int32 / bool), one tensor at a time: memory is the tensors
 * themselves, never the whole file at once (so files over Node's 2 GiB readFile limit work). All-or-nothing.
 */
export async function readSafetensors(file: string, options: ReadSafetensorsOptions = {}): Promise<SafetensorsContents> {
  return withFile(file, async (readExactly, size) => {
    const header = await readHeaderWith(readExactly, size, file);
    options.check?.(header);
    let entries = header.entries;
    if (options.names !== undefined) {
      const wanted = new Set(options.names);
      const held = new Set(entries.map((e) => e.name));
      for (const name of wanted) if (!held.has(name)) fail(file, `no tensor ${quote(name)} in this file`);
      entries = entries.filter((e) => wanted.has(e.name));
    }
    const tensors = new Map<string, Tensor>();
    const dtypes = new Map<string, SafetensorsDtype>();
    try {
      for (const e of entries) {
        const byteLen = e.end - e.begin;
        const position = header.dataStart + e.begin;
        let data: Float32Array | Int32Array;
        if (e.dtype === 'F32' || e.dtype === 'I32') {
          // Read straight into the tensor's own buffer: no intermediate copy.
          data = e.dtype === 'F32' ? new Float32Array(byteLen / 4) : new Int32Array(byteLen / 4);
          await readExactly(new Uint8Array(data.buffer), position, `tensor ${quote(e.name)}`);
        } else {
          const raw = new Uint8Array(byteLen);
          await readExactly(raw, position, `tensor ${quote(e.name)}`);
          data = decodeTensorBytes(raw, e.dtype, e.name, file);
        }
        tensors.set(e.name, makeTensor(data, e, file));
        dtypes.set(e.name, e.dtype);
      }
    } catch (err) {
      for (const t of tensors.values()) t.dispose();
      throw err;
    }
    return { tensors, metadata: header.metadata, dtypes };
  });
}

/** Writes tensors to `file` atomically (temporary file, then rename): a failed write leaves nothing half-written. */
export async function writeSafetensors(file: string, tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = await encodeSafetensors(tensors, metadata);
  await writeFileAtomic(file, bytes);
}

let tmpCounter = 0;
/** Writes `data` to a temporary sibling of `file` and renames it into place. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${tmpCounter++}.tmp`);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

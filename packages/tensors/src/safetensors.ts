// safetensors IO (https://github.com/huggingface/safetensors#format): an 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}, then the data buffer.
// Every check here produces a one-line error naming the file (and tensor) — a corrupt file never crashes, hangs or
// triggers an allocation larger than the file itself.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Headers larger than this are refused (the reference implementation uses 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets into the data buffer (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file. */
  dataStart: number;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const fail = (file: string, msg: string): never => {
  throw new SafetensorsError(`${file}: ${msg}`);
};

/** Parses and validates the header of a safetensors file held in `bytes`. */
export function parseSafetensorsHeader(bytes: Uint8Array, file = '<buffer>'): SafetensorsHeader {
  if (bytes.byteLength < 8) fail(file, `file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength) fail(file, `header length ${headerLen} runs past the end of the ${bytes.byteLength}-byte file`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(file, `header is not valid UTF-8 JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'header JSON is not an object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, `${where}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      fail(file, `${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(file, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(file, `${where}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(file, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(file, `${where}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data buffer`);
    let elements = 1;
    for (const d of shape as number[]) elements *= d;
    const expected = elements * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (expected !== end - begin) {
      fail(file, `${where}: ${end - begin} bytes stored but shape [${shape}] of ${dtype} needs ${expected}`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      fail(file, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap in the data buffer`);
    }
  }
  return { entries, metadata, dataStart };
}

function widenHalf(h: number): number {
  // IEEE 754 binary16 → number
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decodes one entry to a typed array: floats widen to Float32Array (tfjs is fp32-only), integers to Int32Array. */
export function decodeEntry(bytes: Uint8Array, header: SafetensorsHeader, e: SafetensorsEntry, file = '<buffer>'): Float32Array | Int32Array {
  const off = bytes.byteOffset + header.dataStart + e.begin;
  const n = (e.end - e.begin) / DTYPE_BYTES[e.dtype];
  const view = new DataView(bytes.buffer, off, e.end - e.begin);
  switch (e.dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      new Uint8Array(out.buffer).set(bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end));
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = widenHalf(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16; // bf16 is the top half of an fp32
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      new Uint8Array(out.buffer).set(bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end));
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) fail(file, `tensor "${e.name}": I64 value ${v} does not fit tfjs's int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8':
    case 'BOOL': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      return out;
    }
  }
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  /** Original dtype of each tensor as stored. */
  dtypes: Map<string, SafetensorsDtype>;
}

/** Parses a whole safetensors file held in memory into tf tensors (fp32 / int32). All-or-nothing: on error nothing stays allocated. */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsContents {
  const header = parseSafetensorsHeader(bytes, file);
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  try {
    for (const e of header.entries) {
      const data = decodeEntry(bytes, header, e, file);
      tensors.set(e.name, tf.tensor(data, e.shape, data instanceof Float32Array ? 'float32' : 'int32'));
      dtypes.set(e.name, e.dtype);
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: header.metadata, dtypes };
}

/** Reads a safetensors file into tf tensors. */
export async function readSafetensors(file: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    return fail(file, `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(bytes, file);
}

/** Serialises tensors (float32 → F32, int32/bool → I32) with the header padded to a multiple of 8 bytes. */
export async function encodeSafetensors(tensors: Map<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    let dtype: SafetensorsDtype;
    let data: Float32Array | Int32Array;
    if (t.dtype === 'float32') {
      dtype = 'F32';
      data = (await t.data()) as Float32Array;
    } else if (t.dtype === 'int32' || t.dtype === 'bool') {
      dtype = 'I32';
      data = Int32Array.from((await t.data()) as ArrayLike<number>);
    } else {
      throw new SafetensorsError(`tensor "${name}": dtype ${t.dtype} cannot be written to safetensors`);
    }
    const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + b.byteLength] };
    chunks.push(b);
    offset += b.byteLength;
  }
  let json = JSON.stringify(header);
  const headerBytesLen = new TextEncoder().encode(json).byteLength;
  json += ' '.repeat((8 - (headerBytesLen % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

/** Writes tensors to `file` atomically (temporary file, then rename): a failed write leaves nothing half-written. */
export async function writeSafetensors(file: string, tensors: Map<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const bytes = await encodeSafetensors(tensors, metadata);
  await writeFileAtomic(file, bytes);
}

/** Writes `data` to a temporary sibling of `file` and renames it into place. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

// The safetensors codec (https://github.com/huggingface/safetensors#format): an 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}, then the data buffer.
// Bytes in memory ⇄ tf tensors, with no file system and no backend setup: the one codec of unlearn, importable in a
// browser as `@unlearn/tensors/safetensors-codec`. Every check produces a one-line error naming the file (and tensor);
// a corrupt buffer never triggers an allocation sized by a header number. File IO lives in ./safetensors.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};
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

/** Quotes a name from a file for a one-line message: JSON escaping keeps newlines out, long names are cut. */
export const quote = (s: string): string => {
  const q = JSON.stringify(s);
  return q.length > 120 ? `${q.slice(0, 100)}…" (${s.length} chars)` : q;
};

const brief = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

export const fail = (file: string, msg: string): never => {
  throw new SafetensorsError(`${file}: ${msg}`);
};

/** Reads the 8-byte little-endian header length and checks it against the size of the whole file. */
export function headerLength(first8: Uint8Array, file: string, fileBytes: number): number {
  if (fileBytes < 8 || first8.byteLength < 8) fail(file, `file is ${fileBytes} bytes, shorter than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const len = Number(n);
  if (8 + len > fileBytes) fail(file, `header length ${len} runs past the end of the ${fileBytes}-byte file`);
  return len;
}

/**
 * Parses and validates the header of a safetensors file. `bytes` holds at least the first 8 + N bytes of the file;
 * `fileBytes` is the size of the whole file (default: all of `bytes`), against which every data range is checked.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, file = '<buffer>', fileBytes = bytes.byteLength): SafetensorsHeader {
  const headerLen = headerLength(bytes, file, fileBytes);
  if (bytes.byteLength < 8 + headerLen) fail(file, `only ${bytes.byteLength} of the ${8 + headerLen} header bytes are available`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(file, `header is not valid UTF-8 JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(file, 'header JSON is not an object');
  const dataStart = 8 + headerLen;
  const dataLen = fileBytes - dataStart;
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `__metadata__ key ${quote(k)} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor ${quote(name)}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, `${where}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      fail(file, `${where}: unknown dtype ${brief(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(file, `${where}: shape ${brief(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(file, `${where}: data_offsets ${brief(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(file, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(file, `${where}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data buffer`);
    // The product stays exact while it is small; once it exceeds the (small) stored byte count it cannot match.
    let elements = 1;
    for (const d of shape as number[]) elements *= d;
    const expected = elements * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (expected !== end - begin) {
      fail(file, `${where}: ${end - begin} bytes stored but shape ${brief(shape)} of ${dtype} needs ${expected}`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      fail(file, `tensors ${quote(sorted[i - 1].name)} and ${quote(sorted[i].name)} overlap in the data buffer`);
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

/**
 * Decodes the raw little-endian bytes of one tensor: floats widen to Float32Array (tfjs is fp32-only), integers
 * and BOOL to Int32Array (I64 values outside int32 are an error).
 */
export function decodeTensorBytes(raw: Uint8Array, dtype: SafetensorsDtype, name: string, file = '<buffer>'): Float32Array | Int32Array {
  const n = raw.byteLength / DTYPE_BYTES[dtype];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      new Uint8Array(out.buffer).set(raw);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      new Uint8Array(out.buffer).set(raw);
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
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) fail(file, `tensor ${quote(name)}: I64 value ${v} does not fit tfjs's int32`);
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

/** Decodes one entry of a whole file held in `bytes`. */
export function decodeEntry(bytes: Uint8Array, header: SafetensorsHeader, e: SafetensorsEntry, file = '<buffer>'): Float32Array | Int32Array {
  return decodeTensorBytes(bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end), e.dtype, e.name, file);
}

/** The tfjs dtype a safetensors dtype loads as. */
export const tfDtypeOf = (d: SafetensorsDtype): 'float32' | 'int32' | 'bool' =>
  d === 'BOOL' ? 'bool' : d === 'F32' || d === 'F64' || d === 'F16' || d === 'BF16' ? 'float32' : 'int32';

export function makeTensor(data: Float32Array | Int32Array, e: SafetensorsEntry, file: string): Tensor {
  try {
    return tf.tensor(data, e.shape, tfDtypeOf(e.dtype));
  } catch (err) {
    return fail(file, `tensor ${quote(e.name)}: tfjs refused shape [${e.shape}] (${(err as Error).message.split('\n')[0]})`);
  }
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  /** Original dtype of each tensor as stored. */
  dtypes: Map<string, SafetensorsDtype>;
}

/** Parses a whole safetensors file held in memory into tf tensors. All-or-nothing: on error nothing stays allocated. */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsContents {
  const header = parseSafetensorsHeader(bytes, file);
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  try {
    for (const e of header.entries) {
      tensors.set(e.name, makeTensor(decodeEntry(bytes, header, e, file), e, file));
      dtypes.set(e.name, e.dtype);
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: header.metadata, dtypes };
}

/** The safetensors dtype a tfjs tensor is written as, and its bytes per element. */
function storedDtype(t: Tensor, name: string): SafetensorsDtype {
  if (t.dtype === 'float32') return 'F32';
  if (t.dtype === 'int32') return 'I32';
  if (t.dtype === 'bool') return 'BOOL';
  throw new SafetensorsError(`tensor ${quote(name)}: dtype ${t.dtype} cannot be written to safetensors`);
}

/** Bytes a tensor occupies in a file written by encodeSafetensors. */
export function storedBytes(t: Tensor, name = ''): number {
  return t.size * DTYPE_BYTES[storedDtype(t, name)];
}

/**
 * Serialises tensors (float32 → F32, int32 → I32, bool → BOOL) with the header padded to a multiple of 8 bytes.
 * Data are laid out widest dtype first, then by name (as the reference implementation does), so every F32/I32
 * tensor starts 4-byte aligned in the file.
 */
export async function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const names = [...tensors.keys()].sort((a, b) => {
    const wa = DTYPE_BYTES[storedDtype(tensors.get(a)!, a)];
    const wb = DTYPE_BYTES[storedDtype(tensors.get(b)!, b)];
    return wb - wa || (a < b ? -1 : a > b ? 1 : 0);
  });
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const dtype = storedDtype(t, name);
    const values = await t.data();
    const b = dtype === 'BOOL'
      ? Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0))
      : new Uint8Array(values.buffer as ArrayBuffer, (values as Float32Array).byteOffset, (values as Float32Array).byteLength);
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

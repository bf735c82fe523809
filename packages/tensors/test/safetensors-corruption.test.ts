// Hundreds of corrupted variants (seeded) of a small valid file with every dtype: truncations, bit flips and header
// edits. The reader must either load the file or throw a one-line SafetensorsError naming it — never another error,
// never a hang, never an allocation sized by a corrupt header number. Allocations are observed by wrapping the
// typed-array constructors for the duration of each decode; the bound is 4 bytes per byte of file (tfjs widens
// 1-byte dtypes to int32).
import * as tf from '@tensorflow/tfjs-core';
import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsError, decodeSafetensors, initBackend, readSafetensors } from '../src/index.js';
import { packageDir, rng } from './helpers.js';

const valid = readFileSync(path.join(packageDir, 'test/fixtures/dtypes.safetensors'));
const headerLen = Number(valid.readBigUInt64LE(0));
const header = JSON.parse(valid.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, Record<string, unknown>>;
const data = valid.subarray(8 + headerLen);

function withHeader(h: unknown, lengthField?: bigint): Uint8Array {
  const json = Buffer.from(typeof h === 'string' ? h : JSON.stringify(h));
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(lengthField ?? BigInt(json.length), 0);
  json.copy(out, 8);
  data.copy(out, 8 + json.length);
  return out;
}

/** Strange values a header field might be edited to. */
const oddValues = (r: () => number): unknown[] => [
  null, true, 'F32', 'X99', '', -1, 1.5, 2 ** 53, 1e308, -0, [], [[]], {}, [-1], [1.5], ['4'], [2 ** 40, 2 ** 40],
  [1e9], [0, 1e12], [Math.floor(r() * 2000)], [Math.floor(r() * 64), Math.floor(r() * 64)], Array(40).fill(2),
  [Math.floor(r() * 600), Math.floor(r() * 600)], [2 ** 31, 2 ** 31 + 8], [2 ** 53 - 1, 2 ** 53 - 1], [0],
];

function variants(): [string, Uint8Array][] {
  const r = rng(20240607);
  const out: [string, Uint8Array][] = [];
  // Truncations: every length in the first 24 bytes, then random ones.
  for (let n = 0; n < 24; n++) out.push([`truncate-${n}`, valid.subarray(0, n)]);
  for (let i = 0; i < 100; i++) {
    const n = Math.floor(r() * valid.length);
    out.push([`truncate-${n}`, valid.subarray(0, n)]);
  }
  // Bit flips: half inside the length field + header, half in the data region.
  for (let i = 0; i < 200; i++) {
    const b = Uint8Array.from(valid);
    const flips = 1 + Math.floor(r() * 4);
    for (let f = 0; f < flips; f++) {
      const at = i % 2 ? 8 + headerLen + Math.floor(r() * data.length) : Math.floor(r() * (8 + headerLen));
      b[at] ^= 1 << Math.floor(r() * 8);
    }
    out.push([`flip-${i}`, b]);
  }
  // Header edits: one field of one entry set to something odd, entries removed or replaced, length field lies.
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const fields = ['dtype', 'shape', 'data_offsets'];
  for (let i = 0; i < 150; i++) {
    const h = structuredClone(header) as Record<string, unknown>;
    const name = names[Math.floor(r() * names.length)];
    const odd = oddValues(r);
    const pick = odd[Math.floor(r() * odd.length)];
    const kind = i % 6;
    if (kind <= 2) (h[name] as Record<string, unknown>)[fields[kind]] = pick;
    else if (kind === 3) delete (h[name] as Record<string, unknown>)[fields[Math.floor(r() * 3)]];
    else if (kind === 4) h[name] = pick;
    else h.__metadata__ = { note: pick };
    out.push([`edit-${i}-${kind}-${name}`, withHeader(h)]);
  }
  for (const lie of [0n, 1n, 2n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(valid.length), 100_000_001n, 2n ** 63n, 2n ** 64n - 1n]) {
    out.push([`length-${lie}`, withHeader(header, lie)]);
  }
  const overlapping = structuredClone(header);
  overlapping.f32.data_offsets = overlapping.f16.data_offsets;
  overlapping.f32.shape = [16];
  overlapping.f32.dtype = 'F16';
  out.push(['overlap', withHeader(overlapping)]);
  out.push(['not-json', withHeader('{"f32": ')]);
  out.push(['array', withHeader('[1, 2]')]);
  out.push(['bad-utf8', (() => { const b = Uint8Array.from(valid); b[12] = 0xff; return b; })()]);
  out.push(['newline-name', withHeader({ 'evil\nname': { dtype: 'F32', shape: [1e9], data_offsets: [0, 4e9] } })]);
  out.push(['huge-claim', withHeader({ big: { dtype: 'F64', shape: [2 ** 26, 2 ** 26], data_offsets: [0, 2 ** 53 - 1] } })]);
  return out;
}

/** Runs fn while recording the size of every typed array / ArrayBuffer allocated; one over `refuseAbove` bytes
 *  throws instead of allocating (so a regression fails the test rather than eating the machine's memory). */
function largestAllocation<T>(fn: () => T, refuseAbove = 2 ** 26): { result: T; bytes: number } {
  const names = ['ArrayBuffer', 'Float32Array', 'Int32Array', 'Uint32Array', 'Uint8Array', 'Float64Array', 'Int16Array', 'Uint16Array'] as const;
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = names.map((n) => g[n]);
  let bytes = 0;
  names.forEach((n, i) => {
    const Ctor = saved[i] as { BYTES_PER_ELEMENT?: number } & (new (...a: unknown[]) => object);
    g[n] = new Proxy(Ctor, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number') {
          const requested = args[0] * (Ctor.BYTES_PER_ELEMENT ?? 1);
          bytes = Math.max(bytes, requested);
          if (requested > refuseAbove) throw new Error(`test refused an allocation of ${requested} bytes`);
        }
        return Reflect.construct(target, args, newTarget === g[n] ? target : newTarget);
      },
    });
  });
  try {
    return { result: fn(), bytes };
  } finally {
    names.forEach((n, i) => (g[n] = saved[i]));
  }
}

let tmp: string;
beforeAll(async () => {
  await initBackend('cpu');
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'unlearn-corrupt-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe('corrupted safetensors files', () => {
  const all = variants();

  it('the generator makes hundreds of distinct variants, and the untouched file loads', () => {
    expect(all.length).toBeGreaterThan(450);
    expect(new Set(all.map(([, b]) => Buffer.from(b).toString('base64'))).size).toBeGreaterThan(400);
    // The allocation probe sees the reader's allocations: the f16 tensor's 16 values widen to 64 bytes of float32.
    const before = tf.memory().numTensors;
    const { result: c, bytes } = largestAllocation(() => decodeSafetensors(valid, 'valid'));
    expect(c.tensors.size).toBe(12);
    expect(bytes).toBeGreaterThanOrEqual(64);
    c.tensors.forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('in memory: loads or throws a one-line SafetensorsError naming the file; allocations bounded by the file', () => {
    const before = tf.memory().numTensors;
    const outcomes = { loaded: 0, rejected: 0 };
    const reasons = new Set<string>();
    for (const [name, bytes] of all) {
      const file = `/corrupt/${name}.safetensors`;
      const { result, bytes: largest } = largestAllocation(() => {
        try {
          return decodeSafetensors(bytes, file);
        } catch (e) {
          return e as Error;
        }
      });
      expect(largest, `${name}: allocated ${largest} bytes for a ${bytes.length}-byte file`).toBeLessThanOrEqual(4 * Math.max(bytes.length, 8));
      if (result instanceof Error) {
        expect(result, `${name}: ${result.stack}`).toBeInstanceOf(SafetensorsError);
        expect(result.message.startsWith(`${file}: `), result.message).toBe(true);
        expect(result.message, name).not.toMatch(/[\n\r]/);
        expect(result.message.length, name).toBeLessThan(400);
        reasons.add(result.message.slice(file.length + 2).replace(/\d+/g, 'N').slice(0, 30));
        outcomes.rejected++;
      } else {
        result.tensors.forEach((t) => t.dispose());
        outcomes.loaded++;
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    // Data-region flips load (the values change); the rest are refused, for many different reasons.
    expect(outcomes.rejected).toBeGreaterThan(300);
    expect(outcomes.loaded).toBeGreaterThan(20);
    expect(reasons.size).toBeGreaterThan(10);
  });

  it('from disk (streaming reader): the same contract, file by file', async () => {
    const before = tf.memory().numTensors;
    for (const [name, bytes] of all) {
      const file = path.join(tmp, `${name}.safetensors`);
      await fsp.writeFile(file, bytes);
      const inMemory = (() => {
        try {
          const c = decodeSafetensors(bytes, file);
          c.tensors.forEach((t) => t.dispose());
          return 'loaded';
        } catch (e) {
          return (e as Error).message;
        }
      })();
      const fromDisk = await readSafetensors(file).then(
        (c) => (c.tensors.forEach((t) => t.dispose()), 'loaded'),
        (e: Error) => {
          expect(e, `${name}: ${e.stack}`).toBeInstanceOf(SafetensorsError);
          return e.message;
        },
      );
      // Both readers reach the same verdict with the same message.
      expect(fromDisk, name).toBe(inMemory);
      await fsp.rm(file);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

// The quantizers against an independent numpy implementation (scripts/quantizer-goldens.py → quantizer-goldens.json):
// codes equal bit for bit, scales and dequantized weights equal as float32 bit patterns, on random weights with
// edge cases (zero rows, exact .5 ties that round half to even) and on real stories260K weights.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORIES260K_DIR } from '@unlearn/test-utils';
import { NF4_CODE_BOOK, quantizeWeight, roundHalfEven, type QuantizedWeight, type QuantizerSpec } from '../src/index.js';

interface MethodGolden { codes: string; scales: string; dequantizedSha256: string; maxAbsError: number; dequantized?: string }
type CaseGolden = { name: string; shape: [number, number]; weights?: string } & Record<string, MethodGolden | unknown>;
const goldens = JSON.parse(readFileSync(path.join(import.meta.dirname, 'quantizer-goldens.json'), 'utf8')) as {
  nf4CodeBook: number[]; cases: CaseGolden[];
};

const f32 = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The F32 tensors `names` of a safetensors file (8-byte header length, JSON header, raw little-endian data). */
function readSafetensors(file: string, names: string[]): Map<string, Float32Array> {
  const raw = readFileSync(file);
  const n = Number(raw.readBigUInt64LE(0));
  const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  return new Map(names.map((k) => {
    const [a, b] = header[k].data_offsets;
    const bytes = raw.subarray(8 + n + a, 8 + n + b);
    return [k, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];
  }));
}

const METHODS: [string, QuantizerSpec, number][] = [
  ['int8', { method: 'int8' }, 128], ['int4-g64', { method: 'int4', groupSize: 64 }, 8],
  ['int4-g128', { method: 'int4', groupSize: 128 }, 8], ['nf4', { method: 'nf4', blockSize: 64 }, 0],
];
const hexCodes = (q: QuantizedWeight, offset: number) =>
  Array.from(q.codes, (c) => (c + offset).toString(16).padStart(offset === 128 ? 2 : 1, '0')).join('');

const real = readSafetensors(path.join(STORIES260K_DIR, 'model.safetensors'),
  goldens.cases.filter((c) => c.name.startsWith('stories260K:')).map((c) => c.name.slice('stories260K:'.length)));

describe('quantizers = numpy (scripts/quantizer-goldens.py)', () => {
  it('uses the QLoRA NF4 code book', () => {
    expect(Array.from(NF4_CODE_BOOK)).toEqual(goldens.nf4CodeBook);
    expect(NF4_CODE_BOOK[7]).toBe(0);
  });

  it('rounds half to even, as numpy rint does (Math.round would not)', () => {
    expect([0.5, 1.5, 2.5, -0.5, -2.5, -3.5, 126.5, 2.4999999, -1.2].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, -4, 126, 2, -1]);
  });

  for (const c of goldens.cases) {
    for (const [key, spec, offset] of METHODS) {
      it(`${c.name} ${key}: codes bit for bit, scales and round trip as float32`, () => {
        const g = c[key] as MethodGolden;
        const values = c.weights ? f32(c.weights) : real.get(c.name.slice('stories260K:'.length))!;
        const [rows, cols] = c.shape;
        const q = quantizeWeight({ values, rows, cols }, spec);
        expect(hexCodes(q, offset)).toBe(g.codes);
        expect(bits(q.scales)).toEqual(bits(f32(g.scales)));
        if (g.dequantized) expect(bits(q.dequantized)).toEqual(bits(f32(g.dequantized)));
        expect(createHash('sha256').update(Buffer.from(q.dequantized.buffer)).digest('hex')).toBe(g.dequantizedSha256);
      });
    }
  }

  it('the edge rows behave as defined: a zero row has scale 0 and codes 0; ties go to the even level', () => {
    const c = goldens.cases[0];
    const values = f32(c.weights!);
    const q8 = quantizeWeight({ values, rows: 6, cols: 200 }, { method: 'int8' });
    expect(q8.scales[2]).toBe(0);
    expect(Array.from(q8.codes.subarray(400, 600)).every((x) => x === 0)).toBe(true);
    // row 3: absmax 127 → s = 1; 0.5, 1.5, 2.5, −0.5, −2.5, 126.5, −126.5 → 0, 2, 2, 0, −2, 126, −126
    expect(Array.from(q8.codes.subarray(600, 608))).toEqual([127, 0, 2, 2, 0, -2, 126, -126]);
    const q4 = quantizeWeight({ values, rows: 6, cols: 200 }, { method: 'int4', groupSize: 64 });
    expect(Array.from(q4.codes.subarray(800, 808))).toEqual([7, 0, 2, 2, 0, -4, 6, -6]);
  });

  it('rejects what is not a finite matrix, naming the quantizer', () => {
    expect(() => quantizeWeight({ values: new Float32Array(5), rows: 2, cols: 3 }, { method: 'int8' })).toThrow(/^int8: 5 values for shape \[2, 3\]$/);
    expect(() => quantizeWeight({ values: Float32Array.from([1, NaN]), rows: 1, cols: 2 }, { method: 'nf4' })).toThrow(/^nf4: value NaN at index 1 is not finite$/);
    expect(() => quantizeWeight({ values: new Float32Array(4), rows: 2, cols: 2 }, { method: 'int4', groupSize: 0 })).toThrow(/groupSize must be a positive integer/);
  });
});

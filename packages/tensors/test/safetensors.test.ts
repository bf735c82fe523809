// safetensors reading, writing and sharded checkpoints, against a PyTorch-made fixture (fixtures/make_dtypes.py)
// and the real stories260K checkpoint in ../shared.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SafetensorsError, decodeSafetensors, encodeSafetensors, initBackend, openSafetensorsFolder, parseSafetensorsHeader,
  readSafetensors, readSafetensorsFolder, readSafetensorsHeader, writeSafetensors, writeSafetensorsFolder,
} from '../src/index.js';
import { noLeaks, packageDir, stories260K } from './helpers.js';

const fixture = path.join(packageDir, 'test/fixtures/dtypes.safetensors');
const expected = JSON.parse(readFileSync(path.join(packageDir, 'test/fixtures/dtypes.json'), 'utf8')) as {
  tensors: Record<string, { dtype: string; shape: number[]; tfjs_dtype: string; values: (number | string)[]; signbit: boolean[] | null }>;
};
const fromJson = (v: number | string) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));

let tmp: string;
beforeAll(async () => {
  await initBackend('cpu');
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'unlearn-safetensors-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

const disposeAll = (m: Map<string, Tensor>) => m.forEach((t) => t.dispose());

/** The raw stored bytes of every tensor of a safetensors file, by name. */
function rawTensorBytes(bytes: Uint8Array): Map<string, Uint8Array> {
  const h = parseSafetensorsHeader(bytes);
  return new Map(h.entries.map((e) => [e.name, bytes.subarray(h.dataStart + e.begin, h.dataStart + e.end)]));
}

const bytesOf = async (t: Tensor) => {
  const d = (await t.data()) as Float32Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
};

describe('dtypes decoded as PyTorch reads them', () => {
  for (const via of ['readSafetensors', 'decodeSafetensors'] as const) {
    it(`every dtype widens to the values torch gives (${via})`, async () => {
      await noLeaks(async () => {
        const c = via === 'readSafetensors' ? await readSafetensors(fixture) : decodeSafetensors(readFileSync(fixture), fixture);
        expect(c.metadata).toMatchObject({ format: 'pt', made_by: 'make_dtypes.py' });
        expect([...c.tensors.keys()].sort()).toEqual(Object.keys(expected.tensors).sort());
        for (const [name, want] of Object.entries(expected.tensors)) {
          const t = c.tensors.get(name)!;
          expect(c.dtypes.get(name), name).toBe(want.dtype);
          expect(t.dtype, name).toBe(want.tfjs_dtype);
          expect(t.shape, name).toEqual(want.shape);
          const got = Array.from(await t.data());
          want.values.forEach((v, i) => expect(Object.is(got[i], fromJson(v)) || got[i] === fromJson(v), `${name}[${i}] = ${got[i]}, torch: ${v}`).toBe(true));
          want.signbit?.forEach((neg, i) => expect(Object.is(got[i], -0) || got[i] < 0, `${name}[${i}] sign`).toBe(neg && !Number.isNaN(got[i])));
        }
        disposeAll(c.tensors);
      });
    });
  }

  it('an I64 value outside int32 is an error naming file and tensor', async () => {
    await noLeaks(async () => {
      const header = JSON.stringify({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } });
      const bytes = new Uint8Array(8 + header.length + 16);
      const view = new DataView(bytes.buffer);
      view.setBigUint64(0, BigInt(header.length), true);
      bytes.set(new TextEncoder().encode(header), 8);
      view.setBigInt64(8 + header.length + 8, 2n ** 31n, true);
      const file = path.join(tmp, 'big-ids.safetensors');
      await fsp.writeFile(file, bytes);
      await expect(readSafetensors(file)).rejects.toThrow(`${file}: tensor "ids": I64 value 2147483648 does not fit tfjs's int32`);
    });
  });
});

describe('stories260K', () => {
  it('reads all 47 tensors with the shapes its config implies', async () => {
    await noLeaks(async () => {
      const c = await readSafetensors(stories260K);
      expect(c.tensors.size).toBe(47);
      expect(c.tensors.get('model.embed_tokens.weight')!.shape).toEqual([512, 64]);
      expect(c.tensors.get('model.layers.4.mlp.gate_proj.weight')!.shape).toEqual([172, 64]);
      expect(c.tensors.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([32, 64]);
      expect([...c.dtypes.values()].every((d) => d === 'F32')).toBe(true);
      disposeAll(c.tensors);
    });
  });

  it('read → write → read is bit-exact (raw F32 bytes compared)', async () => {
    await noLeaks(async () => {
      const original = rawTensorBytes(readFileSync(stories260K));
      const first = await readSafetensors(stories260K);
      const out = path.join(tmp, 'roundtrip.safetensors');
      await writeSafetensors(out, first.tensors, first.metadata);
      const second = await readSafetensors(out);
      expect(second.metadata).toEqual(first.metadata);
      expect(second.tensors.size).toBe(47);
      for (const [name, raw] of original) {
        const t = second.tensors.get(name)!;
        expect(t.shape).toEqual(first.tensors.get(name)!.shape);
        expect(Buffer.compare(await bytesOf(t), raw), name).toBe(0);
      }
      // Writing what was read again gives the very same file.
      expect(Buffer.compare(await encodeSafetensors(second.tensors, second.metadata), readFileSync(out))).toBe(0);
      // No temporary file is left beside it.
      expect((await fsp.readdir(tmp)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      disposeAll(first.tensors);
      disposeAll(second.tensors);
    });
  });
});

describe('writer', () => {
  it('pads the header to 8 bytes and aligns F32 data; bool round-trips as BOOL', async () => {
    await noLeaks(async () => {
      const tensors = new Map<string, Tensor>([
        ['mask', tf.tensor1d([true, false, true], 'bool')],
        ['b', tf.tensor1d([1, 2, 3])],
        ['a', tf.tensor2d([[-1, 0], [7, 8]], [2, 2], 'int32')],
      ]);
      const bytes = await encodeSafetensors(tensors);
      const h = parseSafetensorsHeader(bytes);
      expect(h.dataStart % 8).toBe(0);
      expect(h.entries.map((e) => [e.name, e.dtype, e.begin])).toEqual([['a', 'I32', 0], ['b', 'F32', 16], ['mask', 'BOOL', 28]]);
      const back = decodeSafetensors(bytes);
      expect(back.tensors.get('mask')!.dtype).toBe('bool');
      expect(Array.from(await back.tensors.get('mask')!.data())).toEqual([1, 0, 1]);
      expect(Array.from(await back.tensors.get('a')!.data())).toEqual([-1, 0, 7, 8]);
      disposeAll(tensors);
      disposeAll(back.tensors);
    });
  });

  it('refuses an unsupported dtype and leaves no file behind', async () => {
    await noLeaks(async () => {
      const s = tf.tensor(['x']);
      const file = path.join(tmp, 'strings.safetensors');
      await expect(writeSafetensors(file, new Map([['s', s]]))).rejects.toThrow(SafetensorsError);
      await expect(writeSafetensors(file, new Map([['s', s]]))).rejects.toThrow('tensor "s": dtype string cannot be written to safetensors');
      expect((await fsp.readdir(tmp)).filter((f) => f.startsWith('strings') || f.includes('strings.safetensors'))).toEqual([]);
      s.dispose();
    });
  });
});

describe('sharded checkpoints (model.safetensors.index.json)', () => {
  let dir: string;
  let source: Map<string, Tensor>;
  let raw: Map<string, Uint8Array>;
  beforeAll(async () => {
    dir = path.join(tmp, 'sharded');
    source = (await readSafetensors(stories260K)).tensors;
    raw = rawTensorBytes(readFileSync(stories260K));
  });
  afterAll(() => disposeAll(source));

  const expectSameAsSource = async (m: Map<string, Tensor>) => {
    expect([...m.keys()].sort()).toEqual([...source.keys()].sort());
    for (const [name, t] of m) expect(Buffer.compare(await bytesOf(t), raw.get(name)!), name).toBe(0);
  };

  it('shards by max bytes, writes the index, and reads back bit-exact', async () => {
    await noLeaks(async () => {
      const written = await writeSafetensorsFolder(dir, source, { maxShardBytes: 300_000, metadata: { format: 'pt' } });
      const totalBytes = [...raw.values()].reduce((s, b) => s + b.byteLength, 0);
      expect(written.totalBytes).toBe(totalBytes);
      // 1,044,... bytes of data in ≤ 300 kB shards (the 131 kB embedding fits): 4 shards + the index.
      expect(written.files).toEqual([
        'model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors',
        'model-00004-of-00004.safetensors', 'model.safetensors.index.json',
      ]);
      expect((await fsp.readdir(dir)).sort()).toEqual([...written.files].sort());
      const index = JSON.parse(await fsp.readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
      expect(index.metadata.total_size).toBe(totalBytes);
      expect(Object.keys(index.weight_map).length).toBe(47);
      for (const shard of written.files.slice(0, -1)) {
        const size = (await fsp.stat(path.join(dir, shard))).size;
        const h = parseSafetensorsHeader(readFileSync(path.join(dir, shard)));
        expect(size - h.dataStart).toBeLessThanOrEqual(300_000);
        expect(h.metadata).toEqual({ format: 'pt' });
      }
      for (const where of [dir, path.join(dir, 'model.safetensors.index.json')]) {
        const c = await readSafetensorsFolder(where);
        await expectSameAsSource(c.tensors);
        expect(c.metadata).toEqual({ format: 'pt' });
        disposeAll(c.tensors);
      }
    });
  });

  it('an index naming a missing shard fails before reading anything', async () => {
    await noLeaks(async () => {
      const shard = path.join(dir, 'model-00003-of-00004.safetensors');
      await fsp.rename(shard, shard + '.away');
      try {
        await expect(readSafetensorsFolder(dir)).rejects.toThrow(
          new RegExp(`^${path.join(dir, 'model.safetensors.index.json')}: shard "model-00003-of-00004.safetensors" \\(holding \\d+ tensors, e.g. "model\\.layers\\.`),
        );
      } finally {
        await fsp.rename(shard + '.away', shard);
      }
    });
  });

  it('a tensor listed in the index but missing from its shard, or one a shard holds unlisted, is an error', async () => {
    await noLeaks(async () => {
      const indexFile = path.join(dir, 'model.safetensors.index.json');
      const original = await fsp.readFile(indexFile, 'utf8');
      const index = JSON.parse(original);
      try {
        // Claim the embedding lives in the last shard.
        const wasIn = index.weight_map['model.embed_tokens.weight'];
        index.weight_map['model.embed_tokens.weight'] = 'model-00004-of-00004.safetensors';
        await fsp.writeFile(indexFile, JSON.stringify(index));
        const err = await readSafetensorsFolder(dir).catch((e: Error) => e);
        expect(err).toBeInstanceOf(SafetensorsError);
        const message = (err as Error).message;
        expect(message).not.toContain('\n');
        const missing = `${path.join(dir, 'model-00004-of-00004.safetensors')}: 1 tensor(s) listed for this shard in model.safetensors.index.json are missing: "model.embed_tokens.weight"`;
        const unlisted = `${path.join(dir, wasIn)}: 1 tensor(s) are not listed for this shard in model.safetensors.index.json: "model.embed_tokens.weight"`;
        expect([missing, unlisted]).toContain(message);
        // Dropping a tensor from the index altogether: its shard holds an unlisted tensor.
        delete index.weight_map['model.embed_tokens.weight'];
        await fsp.writeFile(indexFile, JSON.stringify(index));
        await expect(readSafetensorsFolder(dir)).rejects.toThrow(unlisted);
        await fsp.writeFile(indexFile, '{"weight_map": {"x": "../../etc/passwd.safetensors"}}');
        await expect(readSafetensorsFolder(dir)).rejects.toThrow(/is not a \.safetensors file inside the folder$/);
        await fsp.writeFile(indexFile, '{"weight_map": ');
        await expect(readSafetensorsFolder(dir)).rejects.toThrow(/model\.safetensors\.index\.json: index is not valid JSON/);
      } finally {
        await fsp.writeFile(indexFile, original);
      }
    });
  });

  it('saving again replaces the other layout: single file removes index and shards, and back', async () => {
    await noLeaks(async () => {
      await fsp.writeFile(path.join(dir, 'notes.txt'), 'kept');
      const single = await writeSafetensorsFolder(dir, source);
      expect(single.files).toEqual(['model.safetensors']);
      expect((await fsp.readdir(dir)).sort()).toEqual(['model.safetensors', 'notes.txt']);
      const c = await readSafetensorsFolder(dir);
      await expectSameAsSource(c.tensors);
      disposeAll(c.tensors);
      const sharded = await writeSafetensorsFolder(dir, source, { maxShardBytes: 600_000 });
      expect((await fsp.readdir(dir)).sort()).toEqual([...sharded.files, 'notes.txt'].sort());
      expect(sharded.files.length).toBe(3);
    });
  });

  it('a folder with neither layout, or a missing path, is a one-line error', async () => {
    await noLeaks(async () => {
      const empty = path.join(tmp, 'empty');
      await fsp.mkdir(empty, { recursive: true });
      await expect(readSafetensorsFolder(empty)).rejects.toThrow(`${empty}: no model.safetensors and no model.safetensors.index.json in this folder`);
      await expect(readSafetensorsFolder(path.join(tmp, 'nope'))).rejects.toThrow(`${path.join(tmp, 'nope')}: cannot read checkpoint (ENOENT)`);
      await expect(readSafetensors(path.join(tmp, 'nope.safetensors'))).rejects.toThrow(SafetensorsError);
    });
  });
});

describe('two-phase reading: headers first, tensors on load', () => {
  let dir: string;
  let source: Map<string, Tensor>;
  let raw: Map<string, Uint8Array>;
  beforeAll(async () => {
    dir = path.join(tmp, 'two-phase');
    source = (await readSafetensors(stories260K)).tensors;
    raw = rawTensorBytes(readFileSync(stories260K));
    await writeSafetensorsFolder(dir, source, { maxShardBytes: 300_000 });
  });
  afterAll(() => disposeAll(source));

  it('readSafetensorsHeader reads the header alone; readSafetensors reads the named tensors or refuses via check', async () => {
    await noLeaks(async () => {
      expect(await readSafetensorsHeader(stories260K)).toEqual(parseSafetensorsHeader(readFileSync(stories260K), stories260K));
      const one = await readSafetensors(stories260K, { names: ['model.norm.weight'] });
      expect([...one.tensors.keys()]).toEqual(['model.norm.weight']);
      expect(Buffer.compare(await bytesOf(one.tensors.get('model.norm.weight')!), raw.get('model.norm.weight')!)).toBe(0);
      disposeAll(one.tensors);
      await expect(readSafetensors(stories260K, { names: ['model.norm.weight', 'model.nope'] }))
        .rejects.toThrow(`${stories260K}: no tensor "model.nope" in this file`);
      const refuse = (h: { entries: unknown[] }) => {
        throw new SafetensorsError(`refused a file of ${h.entries.length} tensors`);
      };
      await expect(readSafetensors(stories260K, { check: refuse })).rejects.toThrow('refused a file of 47 tensors');
      // A header that runs past the end of the file fails the same way whether only the header or all is read.
      const truncated = path.join(tmp, 'truncated.safetensors');
      await fsp.writeFile(truncated, readFileSync(stories260K).subarray(0, 20));
      const message = `${truncated}: header length `;
      await expect(readSafetensorsHeader(truncated)).rejects.toThrow(message);
      await expect(readSafetensors(truncated)).rejects.toThrow(message);
    });
  });

  it('open reads every shard header and allocates nothing; load(names) reads only those, bit-exact', async () => {
    await noLeaks(async () => {
      const before = tf.memory().numTensors;
      const folder = await openSafetensorsFolder(dir);
      expect(tf.memory().numTensors).toBe(before);
      const indexFile = path.join(dir, 'model.safetensors.index.json');
      expect(folder.source).toBe(indexFile);
      const weightMap = JSON.parse(await fsp.readFile(indexFile, 'utf8')).weight_map as Record<string, string>;
      expect([...folder.entries.keys()].sort()).toEqual([...source.keys()].sort());
      for (const [name, e] of folder.entries) {
        expect(e.name).toBe(name);
        expect(e.file, name).toBe(path.join(dir, weightMap[name]));
        expect(e.dtype, name).toBe('F32');
        expect(e.shape, name).toEqual(source.get(name)!.shape);
      }
      const names = ['model.norm.weight', 'model.embed_tokens.weight', 'model.layers.2.mlp.up_proj.weight'];
      expect(new Set(names.map((n) => folder.entries.get(n)!.file)).size).toBe(3); // three different shards
      const part = await folder.load(names);
      expect([...part.tensors.keys()].sort()).toEqual([...names].sort());
      for (const n of names) expect(Buffer.compare(await bytesOf(part.tensors.get(n)!), raw.get(n)!), n).toBe(0);
      disposeAll(part.tensors);
      await expect(folder.load(['model.norm.weight', 'model.nope'])).rejects.toThrow(`${indexFile}: no tensor "model.nope" in this checkpoint`);
      // A single file opens the same way, with itself as the source.
      const single = await openSafetensorsFolder(stories260K);
      expect(single.source).toBe(stories260K);
      expect(single.entries.get('model.layers.0.self_attn.k_proj.weight')).toMatchObject({ file: stories260K, shape: [32, 64] });
    });
  });

  it('a shard rewritten between open and load is refused, and tensors read from earlier shards are released', async () => {
    await noLeaks(async () => {
      const folder = await openSafetensorsFolder(dir);
      const last = path.join(dir, 'model-00004-of-00004.safetensors');
      const rewritten = await readSafetensors(last);
      const [name, t] = [...rewritten.tensors][0];
      rewritten.tensors.set(name, tf.reshape(t, [t.size])); // same bytes, another shape
      await writeSafetensors(last, rewritten.tensors);
      t.dispose();
      disposeAll(rewritten.tensors);
      await expect(folder.load()).rejects.toThrow(`${last}: tensor ${JSON.stringify(name)} changed since the checkpoint was opened`);
      // Opened afresh, the folder loads (with the new shape).
      const again = await readSafetensorsFolder(dir);
      expect(again.tensors.get(name)!.rank).toBe(1);
      disposeAll(again.tensors);
    });
  });
});

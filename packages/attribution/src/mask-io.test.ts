// saveMask → loadMask round trip (safetensors, BOOL) and one-line validation errors naming file and tensor.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Mask, ParamMap } from '@unlearn/core';
import { readSafetensors, writeSafetensors } from '@unlearn/tensors';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MASK_FORMAT, loadMask, saveMask, summarizeMask, validateMask } from './index.js';
import { useTestBackend } from '@unlearn/test-utils';

const dir = mkdtempSync(path.join(os.tmpdir(), 'unlearn-mask-'));
let before = 0;
let params: ParamMap;
let mask: Mask;
beforeAll(async () => {
  await useTestBackend();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  before = tf.memory().numTensors;
  params = new Map([
    ['w', tf.tidy(() => tf.variable(tf.zeros([2, 3])))],
    ['b', tf.tidy(() => tf.variable(tf.zeros([3])))],
  ]);
  mask = new Map([
    ['w', tf.tensor2d([[1, 0, 1], [0, 0, 1]])],
    ['b', tf.tensor1d([0, 1, 0])],
  ]);
});
afterEach(() => {
  tf.dispose([...params.values(), ...mask.values()]);
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
});

describe('saveMask / loadMask', () => {
  it('round-trips names, shapes and values, stores BOOL with metadata, leaves no temporary file', async () => {
    const file = path.join(dir, 'mask.safetensors');
    await saveMask(mask, file, { builder: 'wagle', keep: '0.5' });
    expect(readdirSync(dir)).toEqual(['mask.safetensors']);
    const raw = await readSafetensors(file);
    expect(raw.metadata).toEqual({ builder: 'wagle', keep: '0.5', format: MASK_FORMAT, kept: '4', total: '9' });
    expect([...raw.dtypes.values()]).toEqual(['BOOL', 'BOOL']);
    tf.dispose([...raw.tensors.values()]);

    const loaded = await loadMask(file, { params });
    expect([...loaded.keys()].sort()).toEqual(['b', 'w']);
    for (const [name, t] of mask) {
      expect(loaded.get(name)!.dtype).toBe('float32');
      expect(loaded.get(name)!.shape).toEqual(t.shape);
      expect(Array.from(await loaded.get(name)!.data())).toEqual(Array.from(await t.data()));
    }
    expect(await summarizeMask(loaded)).toEqual({ kept: 4, total: 9, fraction: 4 / 9, perTensor: { w: { kept: 3, total: 6 }, b: { kept: 1, total: 3 } } });
    tf.dispose([...loaded.values()]);
  });

  it('names the tensor whose shape does not match the model, or which the model lacks', async () => {
    const file = path.join(dir, 'mismatch.safetensors');
    const wrong = new Map([['w', tf.ones([3, 2])]]);
    await saveMask(wrong, file);
    await expect(loadMask(file, { params })).rejects.toThrowError(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: mask tensor "w" has shape \\[3,2\\] but the model's parameter has \\[2,3\\]$`),
    );
    const extra = new Map([['model.extra', tf.ones([1])]]);
    await saveMask(extra, file);
    await expect(loadMask(file, { params })).rejects.toThrowError(/: mask tensor "model\.extra" is not a parameter of the model$/);
    expect(() => validateMask(wrong, params)).toThrowError(/^mask: mask tensor "w" has shape \[3,2\]/);
    tf.dispose([...wrong.values(), ...extra.values()]);
  });

  it('refuses values other than 0 and 1, on save and on load', async () => {
    const bad = new Map([['b', tf.tensor1d([0, 0.5, 1])]]);
    await expect(saveMask(bad, path.join(dir, 'never.safetensors'))).rejects.toThrowError(/^mask: mask tensor "b" has value 0\.5 at flat index 1/);
    expect(readdirSync(dir).includes('never.safetensors')).toBe(false);
    const file = path.join(dir, 'float.safetensors');
    await writeSafetensors(file, bad);
    await expect(loadMask(file)).rejects.toThrowError(/float\.safetensors: mask tensor "b" has value 0\.5 at flat index 1 \(a mask holds only 0 and 1\)$/);
    tf.dispose([...bad.values()]);
  });

  it('a missing or corrupt file fails with one line naming it', async () => {
    await expect(loadMask(path.join(dir, 'absent.safetensors'))).rejects.toThrowError(/absent\.safetensors: cannot /);
    const junk = path.join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a safetensors file');
    await expect(loadMask(junk)).rejects.toThrowError(/^[^\n]*junk\.safetensors: [^\n]*$/);
  });
});

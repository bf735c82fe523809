// LoRA through the pipeline: finetune with a `lora` section trains only adapters and writes the merged model (plain HF
// folder) plus a PEFT adapter folder; unlearn with fresh adapters on that model keeps its base weights; evaluate-style
// loading (lora.adapter) rebuilds the same model from base + adapter.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '@unlearn/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finetune, loadRunModel, prepareDemoAssets, resolveRunConfig, tinyLlamaConfig, unlearn, adapterDir, saveRunModel, type DemoAssets } from '../src/index.js';

let dir: string;
let assets: DemoAssets;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-lora-'));
  assets = await prepareDemoAssets(path.join(dir, 'assets'), { authors: 3 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function values(folder: string): Promise<Map<string, Float32Array>> {
  const m = await loadModel(folder);
  const out = new Map([...m.params].map(([n, v]) => [n, v.dataSync().slice() as Float32Array]));
  m.dispose();
  return out;
}

describe('LoRA runs', () => {
  it('finetune (adapters on q_proj,v_proj) → merged checkpoint + PEFT adapter; unlearn with fresh adapters; reload base + adapter', async () => {
    const before = tf.memory().numTensors;
    const data = { dir: assets.dataDir, forget: assets.splits.forget, retain: assets.splits.retain, maxLength: 40 };
    const base = await finetune({
      backend: 'cpu', out: path.join(dir, 'runs'), name: 'base', model: { tokenizer: assets.tokenizerDir, create: tinyLlamaConfig(16, 1) },
      data: { ...data, train: 'full' }, training: { steps: 2, batchSize: 4 },
    });
    const ft = await finetune({
      backend: 'cpu', out: path.join(dir, 'runs'), name: 'lora-ft', model: { path: base.folder.checkpoint }, data: { ...data, train: 'full' },
      optimizer: { name: 'adamw', lr: 1e-2 }, training: { steps: 3, batchSize: 4 }, lora: { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'] },
    });
    const adapter = adapterDir(ft.folder.checkpoint);
    const config = JSON.parse(await readFile(path.join(adapter, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: base.folder.checkpoint });
    expect(existsSync(path.join(adapter, 'adapter_model.safetensors'))).toBe(true);
    expect(ft.summary.losses!.every((l) => Number.isFinite(l.loss))).toBe(true);

    // merged = base except the adapted weights
    const [b, m] = [await values(base.folder.checkpoint), await values(ft.folder.checkpoint)];
    const changed = [...m].filter(([n, v]) => v.some((x, i) => x !== b.get(n)![i])).map(([n]) => n).sort();
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((n) => /self_attn\.(q|v)_proj\.weight$/.test(n))).toBe(true);

    // base + adapter folder (lora.adapter) reproduces the merged model's logits
    const run = resolveRunConfig({ backend: 'cpu', model: { path: base.folder.checkpoint, tokenizer: assets.tokenizerDir }, lora: { adapter } }, {});
    const loaded = await loadRunModel(run);
    expect(loaded.source).toContain('+ LoRA');
    const merged = await loadModel(ft.folder.checkpoint);
    const ids = tf.tensor2d([[1, 4, 7, 9, 3]], undefined, 'int32');
    const [x, y] = [loaded.model, merged].map((mm) => mm.forward({ inputIds: ids }).logits);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0])).toBeLessThan(1e-5);
    tf.dispose([ids, x, y]);
    merged.dispose();
    // re-saving writes the same adapter
    const again = path.join(dir, 'again', 'checkpoint');
    expect(await saveRunModel(loaded.model, again)).toBe(adapterDir(again));
    expect(await readFile(path.join(adapterDir(again), 'adapter_model.safetensors'))).toEqual(await readFile(path.join(adapter, 'adapter_model.safetensors')));
    loaded.model.dispose();

    // unlearn on the merged model with fresh adapters on every attention projection (NPO's reference: adapters off)
    const un = await unlearn({
      backend: 'cpu', out: path.join(dir, 'runs'), name: 'lora-npo', model: { path: ft.folder.checkpoint }, data,
      objective: { name: 'npo' }, optimizer: { name: 'adamw', lr: 1e-2 }, training: { steps: 2, batchSize: 2 }, eval: { enabled: false },
      lora: { r: 2, targetRegex: '.*self_attn\\.(q|k|v|o)_proj', gradientCheckpointing: true },
    });
    expect(un.summary.steps).toBe(2);
    const u = await values(un.folder.checkpoint);
    const moved = [...u].filter(([n, v]) => v.some((val, i) => val !== m.get(n)![i])).map(([n]) => n);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((n) => /self_attn\.(q|k|v|o)_proj\.weight$/.test(n))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a lora section with targets that match nothing fails with one line', async () => {
    await expect(finetune({
      backend: 'cpu', out: path.join(dir, 'bad'), model: { tokenizer: assets.tokenizerDir, create: tinyLlamaConfig(16, 1) },
      data: { dir: assets.dataDir, train: 'full', maxLength: 40 }, training: { steps: 1 }, lora: { targets: ['c_attn'] },
    })).rejects.toThrow(/lora: target modules \["c_attn"\] match no linear layer of this llama model/);
  });
});

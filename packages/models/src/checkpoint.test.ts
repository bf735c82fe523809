import * as tf from '@tensorflow/tfjs-core';
import { parseSafetensorsHeader, readSafetensors, writeSafetensors } from '@unlearn/tensors';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, loadModel, loadTokenizer, saveModel, SUPPORTED_MODEL_TYPES, type TransformerLM } from './index.js';
import { FIXTURES_DIR, STORIES_DIR, useTestBackend } from './test-utils/setup.js';

const GPT2_DIR = path.join(FIXTURES_DIR, 'gpt2-tiny');
let tmp: string;
beforeAll(async () => {
  await useTestBackend();
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'unlearn-models-'));
});
afterAll(() => fsp.rm(tmp, { recursive: true, force: true }));

async function expectSameParams(a: TransformerLM, b: TransformerLM): Promise<void> {
  expect([...b.params.keys()].sort()).toEqual([...a.params.keys()].sort());
  for (const [name, v] of a.params) {
    const x = await v.data();
    const y = await b.params.get(name)!.data();
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer)), name).toBe(true); // bit-exact
  }
}

/** Copies a fixture folder into a fresh temporary folder. */
async function copyDir(from: string, name: string): Promise<string> {
  const to = path.join(tmp, name);
  await fsp.cp(from, to, { recursive: true });
  return to;
}

/** A safetensors file with one raw (header-only-checked) entry, for dtypes writeSafetensors never writes. */
async function writeRawSafetensors(file: string, entries: Record<string, { dtype: string; shape: number[] }>, bytesPer = 4) {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const [name, e] of Object.entries(entries)) {
    const n = e.shape.reduce((a, b) => a * b, 1) * bytesPer;
    header[name] = { ...e, data_offsets: [offset, offset + n] };
    offset += n;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  await fsp.writeFile(file, Buffer.concat([len, json, Buffer.alloc(offset)]));
}

describe('saveModel → loadModel', () => {
  it('llama (created): bit-exact, config kept, tied head not stored, metadata format=pt', async () => {
    const before = tf.memory().numTensors;
    const model = createModel({ model_type: 'qwen2', vocab_size: 30, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2,
      num_attention_heads: 2, num_key_value_heads: 1, tie_word_embeddings: true }, { seed: 1 });
    const dir = path.join(tmp, 'qwen2-saved');
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    await expectSameParams(model, loaded);
    expect(loaded.config).toEqual({ ...model.config, architectures: ['Qwen2ForCausalLM'], torch_dtype: 'float32' });
    const bytes = await fsp.readFile(path.join(dir, 'model.safetensors'));
    const header = parseSafetensorsHeader(bytes);
    expect(header.metadata.format).toBe('pt');
    expect(header.entries.map((e) => e.name)).not.toContain('lm_head.weight');
    expect(header.entries.map((e) => e.name)).toContain('model.layers.1.self_attn.k_proj.bias');
    const config = JSON.parse(await fsp.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['Qwen2ForCausalLM']);
    expect((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    model.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stories260K from ../shared and gpt2 with its tokenizer: bit-exact, tokenizer and generation_config written', async () => {
    const before = tf.memory().numTensors;
    for (const src of [STORIES_DIR, GPT2_DIR]) {
      const model = await loadModel(src);
      const tokenizer = await loadTokenizer(src);
      const dir = path.join(tmp, `saved-${path.basename(src)}`);
      await saveModel(model, dir, { tokenizer });
      const loaded = await loadModel(dir);
      await expectSameParams(model, loaded);
      expect(loaded.config).toEqual({ ...model.config, torch_dtype: 'float32' });
      expect(await fsp.readFile(path.join(dir, 'tokenizer.json'), 'utf8')).toBe(await fsp.readFile(path.join(src, 'tokenizer.json'), 'utf8'));
      const again = await loadTokenizer(dir);
      expect(await again.encode('Once upon a time')).toEqual(await tokenizer.encode('Once upon a time'));
      if (src === GPT2_DIR) {
        const config = JSON.parse(await fsp.readFile(path.join(dir, 'config.json'), 'utf8'));
        expect(config.hidden_size).toBeUndefined(); // GPT2Config aliases are not written back
        expect(config.n_embd).toBe(16);
      } else {
        expect(loaded.generationConfig).toEqual(model.generationConfig);
      }
      model.dispose();
      loaded.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads shards listed in model.safetensors.index.json and GPT2Model-style keys without the transformer. prefix', async () => {
    const before = tf.memory().numTensors;
    const ref = await loadModel(GPT2_DIR);
    const dir = await copyDir(GPT2_DIR, 'gpt2-sharded');
    await fsp.rm(path.join(dir, 'model.safetensors'));
    const names = [...ref.params.keys()];
    const shards = [names.slice(0, 10), names.slice(10)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      // the second shard uses GPT2Model names (no prefix) and carries the causal-mask buffers HF used to save
      const tensors = new Map<string, tf.Tensor>(shard.map((n) => [i === 1 ? n.replace(/^transformer\./, '') : n, ref.params.get(n)!]));
      const buffer = tf.ones([1, 1, 32, 32]);
      if (i === 1) tensors.set('h.0.attn.bias', buffer);
      await writeSafetensors(path.join(dir, file), tensors, { format: 'pt' });
      buffer.dispose();
      for (const n of tensors.keys()) weightMap[n] = file;
    }
    await fsp.writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const loaded = await loadModel(dir);
    await expectSameParams(ref, loaded);
    ref.dispose();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('bad folders: one-line errors naming file and tensor, nothing left allocated', () => {
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['missing config.json', (d) => fsp.rm(path.join(d, 'config.json')), /config\.json: cannot read file \(ENOENT\)/],
    ['missing weights', (d) => fsp.rm(path.join(d, 'model.safetensors')), /: no model\.safetensors and no model\.safetensors\.index\.json in this folder$/],
    ['unsupported model_type', async (d) => {
      const c = JSON.parse(await fsp.readFile(path.join(d, 'config.json'), 'utf8'));
      await fsp.writeFile(path.join(d, 'config.json'), JSON.stringify({ ...c, model_type: 'bert' }));
    }, new RegExp(`config\\.json: unsupported model_type "bert" \\(supported: ${SUPPORTED_MODEL_TYPES.join(', ')}\\)`)],
    ['invalid config field', async (d) => {
      const c = JSON.parse(await fsp.readFile(path.join(d, 'config.json'), 'utf8'));
      await fsp.writeFile(path.join(d, 'config.json'), JSON.stringify({ ...c, n_head: 'two' }));
    }, /config\.json: n_head: Expected number, received string/],
    ['shape disagreeing with config.json', async (d) => {
      const c = JSON.parse(await fsp.readFile(path.join(d, 'config.json'), 'utf8'));
      await fsp.writeFile(path.join(d, 'config.json'), JSON.stringify({ ...c, n_positions: 64 }));
    }, /model\.safetensors: tensor "transformer\.wpe\.weight" has shape \[32,16\] but config\.json implies \[64,16\]/],
    ['tensor missing', async (d) => {
      const c = JSON.parse(await fsp.readFile(path.join(d, 'config.json'), 'utf8'));
      await fsp.writeFile(path.join(d, 'config.json'), JSON.stringify({ ...c, tie_word_embeddings: false }));
    }, /model\.safetensors: missing tensor "lm_head\.weight" \(config\.json implies shape \[261,16\]\)/],
    ['extra layer in the file', async (d) => {
      const c = JSON.parse(await fsp.readFile(path.join(d, 'config.json'), 'utf8'));
      await fsp.writeFile(path.join(d, 'config.json'), JSON.stringify({ ...c, n_layer: 1 }));
    }, /model\.safetensors: unexpected tensor "transformer\.h\.1\.attn\.c_attn\.bias"/],
    ['tokenizer vocab larger than the embedding', async (d) => {
      const t = JSON.parse(await fsp.readFile(path.join(d, 'tokenizer.json'), 'utf8'));
      t.added_tokens.push({ id: 300, content: '<extra>', special: true });
      await fsp.writeFile(path.join(d, 'tokenizer.json'), JSON.stringify(t));
    }, /tokenizer\.json: tokenizer has 301 tokens but the embedding \(config\.json vocab_size\) has only 261 rows/],
    ['unknown dtype', (d) => writeRawSafetensors(path.join(d, 'model.safetensors'), { 'transformer.wte.weight': { dtype: 'F8_E4M3', shape: [261, 16] } }, 1),
      /model\.safetensors: tensor "transformer\.wte\.weight": unknown dtype "F8_E4M3"/],
    ['integer weights', (d) => writeRawSafetensors(path.join(d, 'model.safetensors'), { 'transformer.wte.weight': { dtype: 'I32', shape: [261, 16] } }),
      /model\.safetensors: tensor "transformer\.wte\.weight" has dtype I32; parameters must be floating point/],
    ['sharded index pointing at a missing shard', async (d) => {
      await fsp.rename(path.join(d, 'model.safetensors'), path.join(d, 'model-00001-of-00002.safetensors'));
      await fsp.writeFile(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: {
        'transformer.wte.weight': 'model-00001-of-00002.safetensors', 'transformer.ln_f.bias': 'model-00002-of-00002.safetensors' } }));
    }, /model\.safetensors\.index\.json: shard "model-00002-of-00002\.safetensors" \(holding 1 tensor, e\.g\. "transformer\.ln_f\.bias"\) is missing$/],
    ['sharded: a shape in the second shard disagreeing with config.json', async (d) => {
      const bias = 'transformer.ln_f.bias';
      const first = await readSafetensors(path.join(d, 'model.safetensors'));
      first.tensors.get(bias)!.dispose();
      first.tensors.delete(bias);
      await writeSafetensors(path.join(d, 'model-00001-of-00002.safetensors'), first.tensors);
      first.tensors.forEach((t) => t.dispose());
      await fsp.rm(path.join(d, 'model.safetensors'));
      await writeRawSafetensors(path.join(d, 'model-00002-of-00002.safetensors'), { [bias]: { dtype: 'F32', shape: [17] } });
      const weightMap = Object.fromEntries([...first.tensors.keys()].map((n) => [n, 'model-00001-of-00002.safetensors']));
      await fsp.writeFile(path.join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ...weightMap, [bias]: 'model-00002-of-00002.safetensors' } }));
    }, /model-00002-of-00002\.safetensors: tensor "transformer\.ln_f\.bias" has shape \[17\] but config\.json implies \[16\]$/],
    ['truncated safetensors', async (d) => {
      const bytes = await fsp.readFile(path.join(d, 'model.safetensors'));
      await fsp.writeFile(path.join(d, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    }, /model\.safetensors: tensor "[^"]+": data_offsets .* run past/],
  ];

  it.each(cases)('%s', async (name, corrupt, message) => {
    const dir = await copyDir(GPT2_DIR, `bad-${name.replace(/\W+/g, '-')}`);
    await corrupt(dir);
    const before = tf.memory().numTensors;
    const error = await loadModel(dir).then(() => null, (e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(message);
    expect(error!.message).not.toContain('\n');
    expect(error!.message).toContain(dir);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a folder that does not exist', async () => {
    const before = tf.memory().numTensors;
    await expect(loadModel(path.join(tmp, 'does-not-exist'))).rejects.toThrow(/does-not-exist\/config\.json: cannot read file/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

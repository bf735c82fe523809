// The model and tokenizer a run starts from: a Hugging Face folder (model.path), or a fresh model from a config
// (model.create) with the tokenizer of model.tokenizer.
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, loadModel, loadTokenizer, type HFTokenizer, type TransformerLM } from '@unlearn/models';
import type { RunConfig } from './config/schema.js';
import { withRunAdapters } from './lora-run.js';

export interface LoadedModel {
  model: TransformerLM;
  tokenizer: HFTokenizer;
  /** Where it came from, for logs and reports. */
  source: string;
}

/** The run's model and tokenizer; with a `lora` section, the model carries LoRA adapters (./lora-run.ts). */
export async function loadRunModel(config: RunConfig, seed = config.training.seed): Promise<LoadedModel> {
  const loaded = await loadBaseModel(config, seed);
  const model = await withRunAdapters(loaded.model, config);
  const l = config.lora;
  const source = l ? `${loaded.source} + LoRA ${l.adapter ?? `r=${l.r} alpha=${l.alpha} on ${l.targetRegex ?? l.targets.join(',')}`}` : loaded.source;
  return { ...loaded, model, source };
}

async function loadBaseModel(config: RunConfig, seed: number): Promise<LoadedModel> {
  const m = config.model;
  const tokenizerDir = m.tokenizer ?? m.path;
  if (!tokenizerDir) throw new Error('model: set model.path (a Hugging Face folder) or model.create with model.tokenizer');
  if (!existsSync(path.join(tokenizerDir, 'tokenizer.json'))) {
    throw new Error(`${path.join(tokenizerDir, 'tokenizer.json')}: no tokenizer (set model.tokenizer to a folder that has one)`);
  }
  const tokenizer = await loadTokenizer(tokenizerDir);
  if (m.create) {
    const model = createModel({ vocab_size: tokenizer.vocabSize, ...m.create }, { seed });
    return { model, tokenizer, source: `fresh ${String(m.create.model_type ?? 'model')} (seed ${seed})` };
  }
  if (!m.path) throw new Error('model.path: is required (a Hugging Face folder with config.json and model.safetensors)');
  const model = await loadModel(m.path);
  try {
    await assertFiniteWeights(model, m.path);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer, source: m.path };
}

/**
 * A model whose weights hold NaN or ±Inf (a diverged run's, a corrupt file) is refused at load time with one line
 * naming the file and the tensor, not evaluated or trained into nonsense.
 */
export async function assertFiniteWeights(model: TransformerLM, dir: string): Promise<void> {
  const names = [...model.params.keys()];
  const flags = tf.tidy(() => tf.stack(names.map((n) => tf.all(tf.isFinite(model.params.get(n)!)))));
  const ok = await flags.data();
  flags.dispose();
  const bad = names.findIndex((_, i) => !ok[i]);
  if (bad < 0) return;
  let file = path.join(dir, 'model.safetensors');
  const index = path.join(dir, 'model.safetensors.index.json');
  if (existsSync(index)) {
    try {
      const shard = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map?.[names[bad]];
      if (shard) file = path.join(dir, shard);
    } catch {
      // the loader read it already; keep the default name
    }
  }
  const count = names.filter((_, i) => !ok[i]).length;
  throw new Error(`${file}: tensor "${names[bad]}" contains NaN or Inf${count > 1 ? ` (and ${count - 1} more tensors)` : ''} — a diverged or corrupt model`);
}

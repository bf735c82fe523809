// Hugging Face model folders in and out: config.json + model.safetensors (or shards listed by
// model.safetensors.index.json) + generation_config.json. Loading validates everything before allocating a tensor,
// so a bad folder fails with one line naming the file and tensor and leaves nothing allocated.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, ParamMap } from '@unlearn/core';
import { tfjsSeed } from '@unlearn/random';
import { openSafetensorsFolder, writeFileAtomic, writeSafetensors, type CheckpointEntry } from '@unlearn/tensors';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ModelFamily } from './family.js';
import { gpt2Family } from './gpt2.js';
import { llamaFamily } from './llama.js';
import { tokenizerVocabSize } from './tokenizer.js';
import type { TransformerLM } from './transformer.js';

const FAMILIES: readonly ModelFamily[] = [llamaFamily, gpt2Family];
/** Every `model_type` loadModel accepts. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = FAMILIES.flatMap((f) => f.modelTypes);

const ARCHITECTURES: Record<string, string> = {
  llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', gpt2: 'GPT2LMHeadModel',
};

function familyOf(config: unknown, file: string): ModelFamily {
  const type = (config as { model_type?: unknown } | null)?.model_type;
  const family = FAMILIES.find((f) => f.modelTypes.includes(type as string));
  if (!family) {
    throw new Error(`${file}: unsupported model_type ${JSON.stringify(type)} (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  return family;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0];

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read file (${errno(e)})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

async function readOptionalJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    await fsp.access(file);
  } catch {
    return undefined;
  }
  return (await readJson(file)) as Record<string, unknown>;
}

const exists = (file: string) => fsp.access(file).then(() => true, () => false);

/** Validates config.json against its family; fills HF defaults. */
export function parseConfig(raw: unknown, file = 'config.json'): ModelConfig {
  return familyOf(raw, file).parseConfig(raw, file);
}

export interface LoadModelOptions {
  /** Make the parameters trainable tf.Variables (default true). */
  trainable?: boolean;
}

/**
 * Loads a causal LM from a Hugging Face folder. The architecture comes from config.json's `model_type`
 * (llama, mistral, qwen2, gpt2). BF16/F16/F64 weights widen to fp32. When tokenizer.json is present its vocabulary
 * must fit the embedding.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<TransformerLM> {
  const configFile = path.join(dir, 'config.json');
  const raw = await readJson(configFile);
  const family = familyOf(raw, configFile);
  const config = family.parseConfig(raw, configFile);
  const generationConfig = await readOptionalJson(path.join(dir, 'generation_config.json'));

  const tokenizerFile = path.join(dir, 'tokenizer.json');
  if (await exists(tokenizerFile)) {
    const size = tokenizerVocabSize(await readJson(tokenizerFile), tokenizerFile);
    if (size > config.vocab_size) {
      throw new Error(`${tokenizerFile}: tokenizer has ${size} tokens but the embedding (config.json vocab_size) has only ${config.vocab_size} rows`);
    }
  }

  // validate every tensor's header against config.json before allocating any
  const checkpoint = await openSafetensorsFolder(dir);
  const shapes = family.parameterShapes(config);
  const chosen = new Map<string, CheckpointEntry>();
  for (const [storedName, t] of checkpoint.entries) {
    const name = family.canonicalName(storedName, config);
    if (name === null) continue;
    const want = shapes.get(name);
    if (!want) throw new Error(`${t.file}: unexpected tensor "${storedName}" (not a parameter of this ${config.model_type} config)`);
    if (chosen.has(name)) throw new Error(`${t.file}: tensor "${storedName}" duplicates "${name}"`);
    const { dtype, shape } = t;
    if (!['F32', 'F16', 'BF16', 'F64'].includes(dtype)) throw new Error(`${t.file}: tensor "${storedName}" has dtype ${dtype}; parameters must be floating point`);
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      throw new Error(`${t.file}: tensor "${storedName}" has shape [${shape}] but config.json implies [${want}]`);
    }
    chosen.set(name, t);
  }
  for (const [name, want] of shapes) {
    if (!chosen.has(name)) {
      throw new Error(`${checkpoint.source}: missing tensor "${name}" (config.json implies shape [${want}])`);
    }
  }

  // only the parameters are read (buffers such as GPT-2's causal mask are skipped); floats arrive widened to fp32
  const loaded = await checkpoint.load([...chosen.values()].map((t) => t.name));
  const trainable = options.trainable ?? true;
  const params: ParamMap = new Map();
  try {
    for (const name of shapes.keys()) params.set(name, tf.variable(loaded.tensors.get(chosen.get(name)!.name)!, trainable));
  } catch (e) {
    for (const v of params.values()) v.dispose();
    throw e;
  } finally {
    for (const t of loaded.tensors.values()) t.dispose(); // a variable keeps its own reference to the data
  }
  const model = family.build(config, params);
  if (generationConfig) model.generationConfig = generationConfig;
  return model;
}

export interface CreateModelOptions {
  /** Seed of the normal initialiser; the same config and seed give bit-identical parameters. */
  seed?: number;
  trainable?: boolean;
}

/** A randomly initialised model from a config object, initialised as HF's `_init_weights` does (std `initializer_range`). */
export function createModel(config: Record<string, unknown>, options: CreateModelOptions = {}): TransformerLM {
  const family = familyOf(config, 'config');
  const parsed = family.parseConfig(config, 'config');
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`createModel: seed must be an integer, got ${seed}`);
  const params: ParamMap = new Map();
  let index = 0;
  for (const [name, shape] of family.parameterShapes(parsed)) {
    const how = family.init(name, parsed);
    const k = index++;
    params.set(name, tf.tidy(() => {
      const value = how === 'ones' ? tf.ones(shape) : how === 'zeros' ? tf.zeros(shape) : tf.randomNormal(shape, 0, how.normal, 'float32', tfjsSeed(seed, k));
      return tf.variable(value, options.trainable ?? true);
    }));
  }
  return family.build(parsed, params);
}

/** Files a tokenizer can write next to a saved model. */
export interface SavableTokenizer {
  save(dir: string): Promise<void>;
}

/**
 * Writes `dir/config.json`, `dir/model.safetensors` (fp32, HF key names, metadata format=pt so transformers reads it)
 * and generation_config.json when the model has one; with `tokenizer`, its files too. Each file is written atomically.
 * A tied LM head is not stored (as transformers does).
 */
export async function saveModel(model: TransformerLM, dir: string, options: { tokenizer?: SavableTokenizer } = {}): Promise<void> {
  const family = familyOf(model.config, `${model.family} model`);
  await fsp.mkdir(dir, { recursive: true });
  const config = family.serializeConfig(model.config);
  config.architectures ??= [ARCHITECTURES[model.config.model_type]];
  config.torch_dtype = 'float32';
  await writeSafetensors(path.join(dir, 'model.safetensors'), new Map(model.params), { format: 'pt' });
  await writeFileAtomic(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (model.generationConfig) {
    await writeFileAtomic(path.join(dir, 'generation_config.json'), `${JSON.stringify(model.generationConfig, null, 2)}\n`);
  }
  if (options.tokenizer) await options.tokenizer.save(dir);
}

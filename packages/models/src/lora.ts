// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", eq. 3): a frozen linear layer
// h = W·x gains a trainable low-rank path, h = W·x + (α/r)·B·A·dropout(x), A ∈ R^{r×in}, B ∈ R^{out×r}, B = 0 at start so
// the adapted model starts equal to the base. Files follow Hugging Face PEFT: adapter_config.json and
// adapter_model.safetensors with keys `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`; A is initialised
// as PEFT does (kaiming_uniform with a = √5, i.e. U(−1/√in, 1/√in)). The adapted model is a view over the base's weight
// variables (nothing copied); its reference for KL/NPO/DPO (`frozenCopy()`) is the base with the adapter switched off.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import type { ParamMap } from '@unlearn/core';
import { deriveSeed } from '@unlearn/random';
import { matmul, readSafetensors, writeFileAtomic, writeSafetensors } from '@unlearn/tensors';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { LinearAdapter, TransformerLM } from './transformer.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
/** PEFT's prefix of every saved key for a causal LM (PeftModelForCausalLM.base_model.model). */
const PEFT_PREFIX = 'base_model.model.';

export const loraOptionsSchema = z
  .object({
    /** Rank r of A [r, in] and B [out, r]. */
    r: z.number().int().positive().default(8),
    /** α: the delta is scaled by α/r (α/√r with rslora). */
    alpha: z.number().positive().default(16),
    /** Dropout on the adapter's input while `training` (PEFT's lora_dropout). */
    dropout: z.number().min(0).lt(1).default(0),
    /** Module names (`q_proj`: any module whose path ends in `.q_proj`) or one regex matched against the full module path. */
    targets: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).default(['q_proj', 'v_proj']),
    /** Rank-stabilised scaling α/√r (Kalajdzievski 2023; PEFT's use_rslora). */
    rslora: z.boolean().default(false),
    /** Seed of A's initialiser and of the dropout masks. */
    seed: z.number().int().nonnegative().default(0),
  })
  .strict();
export type LoraOptions = z.input<typeof loraOptionsSchema>;
export type LoraSettings = z.output<typeof loraOptionsSchema>;

/** One adapted linear layer. */
interface LoraModule {
  a: tf.Variable; // [r, in]
  b: tf.Variable; // [out, r]
  inDim: number;
  outDim: number;
}

/** PEFT's target rule (tuners_utils.check_target_module_exists): a list matches a key equal to or ending in `.name`, a string is a full-match regex. */
export function matchesTarget(targets: readonly string[] | string, module: string): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(module);
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

/** The linear layers inside the decoder blocks, by module path, with their in/out sizes. */
export function linearModules(model: TransformerLM): Map<string, { inDim: number; outDim: number }> {
  const out = new Map<string, { inDim: number; outDim: number }>();
  const conv1d = fanInFanOut(model);
  for (const [name, v] of model.base?.params ?? model.params) {
    if (!name.endsWith('.weight') || v.rank !== 2 || !/\.(layers|h)\.\d+\./.test(name)) continue;
    const [d0, d1] = v.shape;
    out.set(name.slice(0, -'.weight'.length), conv1d ? { inDim: d0, outDim: d1 } : { inDim: d1, outDim: d0 });
  }
  return out;
}

/** GPT-2 stores Conv1D weights [in, out] (PEFT's fan_in_fan_out). */
const fanInFanOut = (model: TransformerLM) => model.family === 'gpt2';

export class LoraAdapter implements LinearAdapter {
  readonly settings: LoraSettings;
  /** α/r (or α/√r). */
  readonly scaling: number;
  readonly params: ParamMap = new Map();
  /** Off: the adapted model computes exactly the base. */
  enabled = true;
  /** Dropout applies only while training (PEFT's module.train()). */
  training = false;
  private readonly modules = new Map<string, LoraModule>();
  private calls = 0;

  constructor(settings: LoraSettings, modules: Map<string, LoraModule>) {
    this.settings = settings;
    this.scaling = settings.rslora ? settings.alpha / Math.sqrt(settings.r) : settings.alpha / settings.r;
    for (const [m, mod] of modules) {
      this.modules.set(m, mod);
      this.params.set(`${m}.lora_A.weight`, mod.a);
      this.params.set(`${m}.lora_B.weight`, mod.b);
    }
  }

  get stochastic(): boolean {
    return this.training && this.settings.dropout > 0;
  }

  /** Module paths that carry an adapter. */
  get targetModules(): string[] {
    return [...this.modules.keys()];
  }

  /** (α/r)·dropout(x)·Aᵀ·Bᵀ: [rows, out]. */
  delta(module: string, x: Tensor2D): Tensor2D | null {
    if (!this.enabled) return null;
    const m = this.modules.get(module);
    if (!m) return null;
    const p = this.settings.dropout;
    const xin = this.training && p > 0 ? tf.dropout(x, p, undefined, deriveSeed(this.settings.seed, 1 + this.calls++)) : x;
    return tf.mul(matmul(matmul(xin, m.a, false, true), m.b, false, true), this.scaling) as Tensor2D;
  }

  /** ΔW = (α/r)·B·A in the base weight's layout ([out, in]; [in, out] for GPT-2's Conv1D). */
  deltaWeight(module: string, conv1d: boolean): Tensor {
    const m = this.modules.get(module);
    if (!m) throw new Error(`lora: no adapter on module "${module}"`);
    return tf.tidy(() => {
      const d = tf.mul(matmul(m.b, m.a), this.scaling);
      return conv1d ? tf.transpose(d) : d;
    });
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/** The adapter of a model made by `applyLora`/`loadLora`, or null. */
export function loraOf(model: TransformerLM): LoraAdapter | null {
  return model.adapter instanceof LoraAdapter ? model.adapter : null;
}

function selectModules(model: TransformerLM, targets: readonly string[] | string, where: string): Map<string, { inDim: number; outDim: number }> {
  const all = linearModules(model);
  const chosen = new Map([...all].filter(([m]) => matchesTarget(targets, m)));
  if (chosen.size === 0) {
    const kinds = [...new Set([...all.keys()].map((m) => m.split('.').pop()))].join(', ');
    throw new Error(`${where}: target modules ${JSON.stringify(targets)} match no linear layer of this ${model.config.model_type} model (its layers: ${kinds})`);
  }
  return chosen;
}

/**
 * Attaches fresh LoRA adapters (A ~ U(−1/√in, 1/√in) seeded, B = 0) to the targeted linear layers of `base`. Returns a
 * view over base's weights whose trainable parameters are the adapters only (the base's variables are made
 * non-trainable). Disposing the view disposes the adapters; the base stays the caller's.
 */
export function applyLora(base: TransformerLM, options: LoraOptions = {}): TransformerLM {
  const parsed = loraOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`lora: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
  }
  const s = parsed.data;
  if (base.adapter) throw new Error('lora: the model already has an adapter (merge it first with mergeLora)');
  const chosen = selectModules(base, s.targets, 'lora');
  const modules = new Map<string, LoraModule>();
  let k = 0;
  for (const [m, { inDim, outDim }] of chosen) {
    const bound = 1 / Math.sqrt(inDim); // kaiming_uniform(a=√5): gain √(2/(1+5)) · √(3/fan_in) = 1/√fan_in
    const seed = deriveSeed(s.seed, 100_000 + k++);
    modules.set(m, {
      a: tf.tidy(() => tf.variable(tf.randomUniform([s.r, inDim], -bound, bound, 'float32', seed), true)),
      b: tf.tidy(() => tf.variable(tf.zeros([outDim, s.r]), true)),
      inDim, outDim,
    });
  }
  return attach(base, new LoraAdapter(s, modules));
}

function attach(base: TransformerLM, adapter: LoraAdapter): TransformerLM {
  for (const v of base.params.values()) v.trainable = false;
  return base.view(adapter);
}

/** adapter_config.json as PEFT writes it (LoraConfig); fields this implementation cannot honour are refused. */
const adapterConfigSchema = z
  .object({
    peft_type: z.literal('LORA', { errorMap: () => ({ message: 'peft_type must be "LORA"' }) }),
    r: z.number().int().positive(),
    lora_alpha: z.number().positive(),
    lora_dropout: z.number().min(0).lt(1).default(0),
    target_modules: z.union([z.array(z.string()), z.string()]),
    use_rslora: z.boolean().default(false),
    bias: z.literal('none', { errorMap: () => ({ message: 'only bias "none" is supported' }) }).default('none'),
    use_dora: z.literal(false, { errorMap: () => ({ message: 'DoRA adapters are not supported' }) }).optional(),
    modules_to_save: z.null({ message: 'modules_to_save is not supported' }).optional(),
    rank_pattern: z.record(z.never(), { errorMap: () => ({ message: 'rank_pattern is not supported' }) }).optional(),
    alpha_pattern: z.record(z.never(), { errorMap: () => ({ message: 'alpha_pattern is not supported' }) }).optional(),
    layers_to_transform: z.null({ message: 'layers_to_transform is not supported' }).optional(),
  })
  .passthrough();

export interface SaveLoraOptions {
  /** Written as base_model_name_or_path (where the base model lives). */
  baseModel?: string;
}

/** Writes `dir/adapter_config.json` and `dir/adapter_model.safetensors` (fp32, PEFT key names), each atomically. */
export async function saveLora(model: TransformerLM, dir: string, options: SaveLoraOptions = {}): Promise<void> {
  const lora = loraOf(model);
  if (!lora) throw new Error('saveLora: the model has no LoRA adapter (make one with applyLora or loadLora)');
  const s = lora.settings;
  await fsp.mkdir(dir, { recursive: true });
  const tensors = new Map<string, Tensor>();
  for (const [name, v] of lora.params) tensors.set(PEFT_PREFIX + name, v);
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  const config = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: options.baseModel ?? null, revision: null,
    r: s.r, lora_alpha: s.alpha, lora_dropout: s.dropout, target_modules: s.targets, use_rslora: s.rslora,
    fan_in_fan_out: fanInFanOut(model), bias: 'none', init_lora_weights: true, inference_mode: true, use_dora: false,
    modules_to_save: null, layers_to_transform: null, layers_pattern: null, rank_pattern: {}, alpha_pattern: {},
  };
  await writeFileAtomic(path.join(dir, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Loads a PEFT LoRA folder onto `base`: every tensor must be `base_model.model.<module>.lora_{A,B}.weight` for a module
 * the config targets, with shapes [r, in] / [out, r]. Returns the adapted view (base weights made non-trainable).
 */
export async function loadLora(base: TransformerLM, dir: string): Promise<TransformerLM> {
  const configFile = path.join(dir, ADAPTER_CONFIG);
  let raw: unknown;
  try {
    raw = JSON.parse(await fsp.readFile(configFile, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0];
    throw new Error(`${configFile}: cannot read adapter config (${why})`);
  }
  const parsed = adapterConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${configFile}: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
  }
  const c = parsed.data;
  if (base.adapter) throw new Error(`${dir}: the model already has an adapter`);
  const chosen = selectModules(base, c.target_modules, configFile);
  const file = path.join(dir, ADAPTER_WEIGHTS);
  const expected = new Map<string, number[]>();
  for (const [m, { inDim, outDim }] of chosen) {
    expected.set(`${PEFT_PREFIX}${m}.lora_A.weight`, [c.r, inDim]);
    expected.set(`${PEFT_PREFIX}${m}.lora_B.weight`, [outDim, c.r]);
  }
  const { tensors } = await readSafetensors(file, {
    check(header) {
      const seen = new Set<string>();
      for (const e of header.entries) {
        const want = expected.get(e.name);
        if (!want) throw new Error(`${file}: unexpected tensor "${e.name}" (not a LoRA A/B of a module adapter_config.json targets)`);
        if (!['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) throw new Error(`${file}: tensor "${e.name}" has dtype ${e.dtype}`);
        if (e.shape.join() !== want.join()) throw new Error(`${file}: tensor "${e.name}" has shape [${e.shape}], expected [${want}]`);
        seen.add(e.name);
      }
      for (const name of expected.keys()) if (!seen.has(name)) throw new Error(`${file}: missing tensor "${name}"`);
    },
  });
  const modules = new Map<string, LoraModule>();
  try {
    for (const [m, dims] of chosen) {
      const a = tensors.get(`${PEFT_PREFIX}${m}.lora_A.weight`)!;
      const b = tensors.get(`${PEFT_PREFIX}${m}.lora_B.weight`)!;
      modules.set(m, { a: tf.variable(a, true), b: tf.variable(b, true), ...dims });
    }
  } finally {
    for (const t of tensors.values()) t.dispose(); // the variables hold their own references
  }
  const settings = loraOptionsSchema.parse({ r: c.r, alpha: c.lora_alpha, dropout: c.lora_dropout, targets: c.target_modules, rslora: c.use_rslora });
  return attach(base, new LoraAdapter(settings, modules));
}

/**
 * A plain model (no adapter) whose targeted weights are W + (α/r)·B·A: what PEFT's merge_and_unload gives. It owns its
 * variables (untouched weights share the base's buffers); save it with saveModel as a plain HF folder.
 */
export function mergeLora(model: TransformerLM): TransformerLM {
  const lora = loraOf(model);
  const base = model.base;
  if (!lora || !base) throw new Error('mergeLora: the model has no LoRA adapter');
  const conv1d = fanInFanOut(model);
  const targeted = new Set(lora.targetModules.map((m) => `${m}.weight`));
  const params: ParamMap = new Map();
  for (const [name, w] of base.params) {
    params.set(name, targeted.has(name)
      ? tf.tidy(() => tf.variable(tf.add(w, lora.deltaWeight(name.slice(0, -'.weight'.length), conv1d)), true))
      : tf.variable(w, true));
  }
  return base.rebuild(params);
}

// GPT-2 (Radford et al. 2019) read top to bottom: learned positions, pre-LayerNorm blocks, fused qkv projection,
// gelu_new MLP, LM head tied to the token embedding. Parameter names are the Hugging Face `GPT2LMHeadModel` keys;
// its Conv1D layers store weights as [in, out], so every projection is x · W + b (no transpose at all).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import type { ModelConfig, ParamMap } from '@unlearn/core';
import { matmul } from '@unlearn/tensors';
import { z } from 'zod';
import { configError, type ModelFamily, type ParamInit } from './family.js';
import { attention, lastRows, TransformerLM, type KVCache, type StepContext, type StepOptions, type StepOutput } from './transformer.js';

const positive = z.number().int().positive();

/** config.json of GPT2Config, defaults as in transformers. */
const Gpt2ConfigSchema = z
  .object({
    model_type: z.literal('gpt2'),
    vocab_size: positive,
    n_embd: positive,
    n_layer: positive,
    n_head: positive,
    n_positions: positive.default(1024),
    n_inner: positive.nullish(),
    layer_norm_epsilon: z.number().positive().default(1e-5),
    activation_function: z.enum(['gelu_new', 'gelu_pytorch_tanh', 'gelu']).default('gelu_new'),
    initializer_range: z.number().positive().default(0.02),
    tie_word_embeddings: z.boolean().default(true),
    scale_attn_weights: z.literal(true, { errorMap: () => ({ message: 'only scale_attn_weights true is supported' }) }).default(true),
    scale_attn_by_inverse_layer_idx: z
      .literal(false, { errorMap: () => ({ message: 'scale_attn_by_inverse_layer_idx is not supported' }) })
      .default(false),
  })
  .passthrough();

type Gpt2Config = z.infer<typeof Gpt2ConfigSchema> & ModelConfig & { n_inner: number };
/** GPT2Config.attribute_map: the generic names @unlearn/core reads, added on load and dropped on save. */
const ALIASES = { hidden_size: 'n_embd', num_hidden_layers: 'n_layer', num_attention_heads: 'n_head', max_position_embeddings: 'n_positions' } as const;

function parseConfig(raw: unknown, file: string): Gpt2Config {
  const parsed = Gpt2ConfigSchema.safeParse(raw);
  if (!parsed.success) throw configError(file, parsed.error);
  const c = parsed.data;
  if (c.n_embd % c.n_head !== 0) throw new Error(`${file}: n_embd ${c.n_embd} is not divisible by n_head ${c.n_head}`);
  const aliases = Object.fromEntries(Object.entries(ALIASES).map(([k, v]) => [k, c[v]]));
  return { ...c, ...aliases, n_inner: c.n_inner ?? 4 * c.n_embd } as Gpt2Config;
}

function parameterShapes(config: ModelConfig): Map<string, number[]> {
  const c = config as Gpt2Config;
  const D = c.n_embd, I = c.n_inner;
  const shapes = new Map<string, number[]>([
    ['transformer.wte.weight', [c.vocab_size, D]],
    ['transformer.wpe.weight', [c.n_positions, D]],
  ]);
  for (let i = 0; i < c.n_layer; i++) {
    const l = `transformer.h.${i}.`;
    shapes.set(`${l}ln_1.weight`, [D]).set(`${l}ln_1.bias`, [D]);
    shapes.set(`${l}attn.c_attn.weight`, [D, 3 * D]).set(`${l}attn.c_attn.bias`, [3 * D]);
    shapes.set(`${l}attn.c_proj.weight`, [D, D]).set(`${l}attn.c_proj.bias`, [D]);
    shapes.set(`${l}ln_2.weight`, [D]).set(`${l}ln_2.bias`, [D]);
    shapes.set(`${l}mlp.c_fc.weight`, [D, I]).set(`${l}mlp.c_fc.bias`, [I]);
    shapes.set(`${l}mlp.c_proj.weight`, [I, D]).set(`${l}mlp.c_proj.bias`, [D]);
  }
  shapes.set('transformer.ln_f.weight', [D]).set('transformer.ln_f.bias', [D]);
  if (!c.tie_word_embeddings) shapes.set('lm_head.weight', [c.vocab_size, D]);
  return shapes;
}

/** GPT2PreTrainedModel._init_weights: normal(0, 0.02); residual projections c_proj scaled by 1/√(2·n_layer) (GPT-2 §2.3). */
function init(name: string, config: ModelConfig): ParamInit {
  const c = config as Gpt2Config;
  if (/\.ln_(1|2|f)\.weight$/.test(name)) return 'ones';
  if (name.endsWith('.bias')) return 'zeros';
  if (name.endsWith('c_proj.weight')) return { normal: c.initializer_range / Math.sqrt(2 * c.n_layer) };
  return { normal: c.initializer_range };
}

function layerNorm(x: Tensor2D, weight: Tensor, bias: Tensor, eps: number): Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), weight), bias);
}

/** gelu_new / gelu_pytorch_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (Hendrycks & Gimpel 2016); `gelu`: exact erf form. */
function gelu(x: Tensor, exact: boolean): Tensor {
  if (exact) return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

/** Conv1D: x · W + b with W stored [in, out]. */
const conv1d = (x: Tensor2D, w: Tensor, b: Tensor) => tf.add(matmul(x, w as Tensor2D), b) as Tensor2D;

export class Gpt2 extends TransformerLM {
  readonly family = 'gpt2';
  readonly numLayers: number;
  readonly maxLength: number;
  private readonly c: Gpt2Config;

  constructor(config: ModelConfig, params: ParamMap) {
    super(config, params);
    this.c = config as Gpt2Config;
    this.numLayers = this.c.n_layer;
    this.maxLength = this.c.n_positions;
  }

  protected withParams(params: ParamMap): Gpt2 {
    return new Gpt2(this.config, params);
  }

  protected run(inputIds: Tensor2D, ctx: StepContext, o: StepOptions): StepOutput {
    const c = this.c;
    const { batch: B, length: T } = ctx;
    const D = c.n_embd, H = c.n_head, eps = c.layer_norm_epsilon;
    const exact = c.activation_function === 'gelu';
    const hidden: Tensor3D[] = [];
    const record = (x: Tensor2D) => o.hiddenStates && hidden.push(tf.reshape(x, [B, T, D]));
    const p = (name: string) => this.p(`transformer.${name}`);

    // token + learned position embeddings; the residual stream stays 2-D [B·T, D]
    const tokens = tf.gather(p('wte.weight'), tf.reshape(inputIds, [B * T]));
    const positions = tf.gather(p('wpe.weight'), tf.reshape(ctx.positions, [B * T]));
    let x = tf.add(tokens, positions) as Tensor2D;
    record(x);
    const cache: KVCache = [];
    // Conv1D x·W + b, plus the adapter's delta (LoRA) where one is attached
    const conv = (x: Tensor2D, m: string) => this.adapted(`transformer.${m}`, x, conv1d(x, p(`${m}.weight`), p(`${m}.bias`)));
    const checkpoint = !o.cache && !o.useCache;
    for (let i = 0; i < c.n_layer; i++) {
      const l = `h.${i}.`;
      const block = (x: Tensor2D, [bias]: Tensor[]): Tensor2D => {
        // attention block: x + c_proj(attn(split(c_attn(ln_1(x)))))
        const h = layerNorm(x, p(`${l}ln_1.weight`), p(`${l}ln_1.bias`), eps);
        const [q, k, v] = tf.split(conv(h, `${l}attn.c_attn`), 3, 1) as Tensor2D[];
        const att = attention(q, k, v, { ...ctx, bias: bias as typeof ctx.bias }, { heads: H, kvHeads: H, headDim: D / H }, o.cache?.[i] ?? null, !!o.useCache);
        if (att.cache) cache.push(att.cache);
        x = tf.add(x, conv(att.out, `${l}attn.c_proj`));
        // MLP block: x + c_proj(gelu(c_fc(ln_2(x))))
        const h2 = layerNorm(x, p(`${l}ln_2.weight`), p(`${l}ln_2.bias`), eps);
        const m = gelu(conv(h2, `${l}mlp.c_fc`), exact) as Tensor2D;
        return tf.add(x, conv(m, `${l}mlp.c_proj`));
      };
      x = checkpoint ? this.layer(x, this.layerParams(`transformer.${l}`), [ctx.bias], block) : block(x, [ctx.bias]);
      record(x);
    }
    let out = layerNorm(x, p('ln_f.weight'), p('ln_f.bias'), eps);
    if (o.lastOnly) out = lastRows(out, B, T);
    const head = c.tie_word_embeddings ? p('wte.weight') : this.p('lm_head.weight');
    const logits = tf.reshape(matmul(out, head, false, true), [B, o.lastOnly ? 1 : T, c.vocab_size]) as Tensor3D;
    return { logits, hiddenStates: o.hiddenStates ? hidden : undefined, cache: cache.length ? cache : undefined };
  }
}

export const gpt2Family: ModelFamily = {
  modelTypes: ['gpt2'],
  parseConfig,
  parameterShapes,
  init,
  canonicalName(stored, config) {
    if (/\.attn\.(masked_)?bias$/.test(stored)) return null; // causal-mask buffers, not parameters
    if (stored === 'lm_head.weight') return (config as Gpt2Config).tie_word_embeddings ? null : stored;
    return stored.startsWith('transformer.') ? stored : `transformer.${stored}`; // GPT2Model files lack the prefix
  },
  build: (config, params) => new Gpt2(config, params),
  serializeConfig(config) {
    const out: Record<string, unknown> = { ...config };
    for (const k of Object.keys(ALIASES)) delete out[k];
    return out;
  },
};

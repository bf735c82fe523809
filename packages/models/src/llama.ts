// The Llama family — Llama (Touvron et al. 2023), Mistral (Jiang et al. 2023), Qwen2 (Yang et al. 2024) — read top to
// bottom: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, tied or untied LM head. Parameter names are
// the Hugging Face `LlamaForCausalLM` state-dict keys, so loading a checkpoint is a lookup.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import type { ModelConfig, ParamMap } from '@unlearn/core';
import { linear, matmul } from '@unlearn/tensors';
import { rmsNorm as rmsNormOp, rope, swiglu } from '@unlearn/tensors';
import { z } from 'zod';
import { configError, type ModelFamily, type ParamInit } from './family.js';
import { attention, lastRows, TransformerLM, type KVCache, type StepContext, type StepOptions, type StepOutput } from './transformer.js';

const positive = z.number().int().positive();

/** config.json of LlamaConfig / MistralConfig / Qwen2Config, defaults as in transformers. */
const LlamaConfigSchema = z
  .object({
    model_type: z.enum(['llama', 'mistral', 'qwen2']),
    vocab_size: positive,
    hidden_size: positive,
    intermediate_size: positive,
    num_hidden_layers: positive,
    num_attention_heads: positive,
    num_key_value_heads: positive.nullish(),
    head_dim: positive.nullish(),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: z.null({ message: 'rope_scaling is not supported (only plain RoPE)' }).optional(),
    max_position_embeddings: positive.default(2048),
    tie_word_embeddings: z.boolean().default(false),
    attention_bias: z.boolean().default(false),
    mlp_bias: z.boolean().default(false),
    hidden_act: z.literal('silu', { errorMap: () => ({ message: 'only hidden_act "silu" is supported' }) }).default('silu'),
    initializer_range: z.number().positive().default(0.02),
    sliding_window: positive.nullish(),
    use_sliding_window: z.boolean().optional(),
  })
  .passthrough();

export type LlamaConfig = z.infer<typeof LlamaConfigSchema> & { num_key_value_heads: number; head_dim: number };

function parseConfig(raw: unknown, file: string): LlamaConfig {
  const parsed = LlamaConfigSchema.safeParse(raw);
  if (!parsed.success) throw configError(file, parsed.error);
  const c = parsed.data;
  const heads = c.num_attention_heads;
  const kvHeads = c.num_key_value_heads ?? heads;
  const headDim = c.head_dim ?? c.hidden_size / heads;
  if (!Number.isInteger(headDim)) throw new Error(`${file}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${heads}`);
  if (heads % kvHeads !== 0) throw new Error(`${file}: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  if (headDim % 2 !== 0) throw new Error(`${file}: head_dim ${headDim} must be even for rotary embeddings`);
  return { ...c, num_key_value_heads: kvHeads, head_dim: headDim };
}

/** q/k/v biases: Qwen2 always has them; Llama and Mistral when `attention_bias`. o_proj's bias only with `attention_bias`. */
const qkvBias = (c: LlamaConfig) => c.model_type === 'qwen2' || c.attention_bias;
const outBias = (c: LlamaConfig) => c.model_type !== 'qwen2' && c.attention_bias;

function parameterShapes(config: ModelConfig): Map<string, number[]> {
  const c = config as LlamaConfig;
  const D = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;
  const q = c.num_attention_heads * hd, kv = c.num_key_value_heads * hd;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab_size, D]]]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}.`;
    shapes.set(`${l}input_layernorm.weight`, [D]);
    shapes.set(`${l}self_attn.q_proj.weight`, [q, D]);
    shapes.set(`${l}self_attn.k_proj.weight`, [kv, D]);
    shapes.set(`${l}self_attn.v_proj.weight`, [kv, D]);
    if (qkvBias(c)) {
      shapes.set(`${l}self_attn.q_proj.bias`, [q]);
      shapes.set(`${l}self_attn.k_proj.bias`, [kv]);
      shapes.set(`${l}self_attn.v_proj.bias`, [kv]);
    }
    shapes.set(`${l}self_attn.o_proj.weight`, [D, q]);
    if (outBias(c)) shapes.set(`${l}self_attn.o_proj.bias`, [D]);
    shapes.set(`${l}post_attention_layernorm.weight`, [D]);
    shapes.set(`${l}mlp.gate_proj.weight`, [I, D]);
    shapes.set(`${l}mlp.up_proj.weight`, [I, D]);
    shapes.set(`${l}mlp.down_proj.weight`, [D, I]);
    if (c.mlp_bias) {
      shapes.set(`${l}mlp.gate_proj.bias`, [I]);
      shapes.set(`${l}mlp.up_proj.bias`, [I]);
      shapes.set(`${l}mlp.down_proj.bias`, [D]);
    }
  }
  shapes.set('model.norm.weight', [D]);
  if (!c.tie_word_embeddings) shapes.set('lm_head.weight', [c.vocab_size, D]);
  return shapes;
}

/** LlamaPreTrainedModel._init_weights: normal(0, initializer_range) for linears and embeddings, zero biases, unit norms. */
function init(name: string, config: ModelConfig): ParamInit {
  if (name.endsWith('norm.weight')) return 'ones';
  if (name.endsWith('.bias')) return 'zeros';
  return { normal: (config as LlamaConfig).initializer_range };
}

/**
 * rotate_half(x) = cat(−x[d/2:], x[:d/2]) as a constant [d, d] matrix, so RoPE is one transpose-free 2-D matmul:
 * out_i = −x_{i+d/2} for i < d/2, out_i = x_{i−d/2} otherwise.
 */
function rotateHalfMatrix(d: number): Tensor2D {
  const h = d / 2;
  const m = new Float32Array(d * d);
  for (let i = 0; i < h; i++) {
    m[(i + h) * d + i] = -1;
    m[i * d + i + h] = 1;
  }
  return tf.tensor2d(m, [d, d]);
}

/**
 * RoPE tables (Su et al. 2021) as HF computes them in fp32: inv_freq_i = 1 / θ^(2i/d), angle = pos · inv_freq,
 * cos/sin of cat(angles, angles): [positions, d].
 */
function ropeTables(positions: number, d: number, theta: number): { cos: Tensor2D; sin: Tensor2D } {
  const f = Math.fround;
  const invFreq = Array.from({ length: d / 2 }, (_, i) => f(1 / f(theta ** f((2 * i) / d))));
  const cos = new Float32Array(positions * d);
  const sin = new Float32Array(positions * d);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < d / 2; i++) {
      const a = f(p * invFreq[i]);
      cos[p * d + i] = cos[p * d + i + d / 2] = Math.cos(a);
      sin[p * d + i] = sin[p * d + i + d / 2] = Math.sin(a);
    }
  }
  return { cos: tf.tensor2d(cos, [positions, d]), sin: tf.tensor2d(sin, [positions, d]) };
}

/** RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x²) + ε) · w (one fused kernel where the backend has it). */
const rmsNorm = (x: Tensor2D, weight: Tensor, eps: number): Tensor2D => rmsNormOp(x, weight, eps);

export class Llama extends TransformerLM {
  readonly family = 'llama';
  readonly numLayers: number;
  readonly maxLength = null;
  private readonly c: LlamaConfig;
  private readonly rotate: Tensor2D;
  private rope: { cos: Tensor2D; sin: Tensor2D };

  constructor(config: ModelConfig, params: ParamMap) {
    super(config, params);
    this.c = config as LlamaConfig;
    this.numLayers = this.c.num_hidden_layers;
    this.rotate = rotateHalfMatrix(this.c.head_dim);
    this.rope = ropeTables(this.c.max_position_embeddings, this.c.head_dim, this.c.rope_theta);
  }

  protected withParams(params: ParamMap): Llama {
    return new Llama(this.config, params);
  }

  protected override slidingWindow(): number | null {
    const c = this.c;
    if (c.model_type === 'mistral') return c.sliding_window ?? null;
    if (c.model_type === 'qwen2' && c.use_sliding_window) return c.sliding_window ?? null;
    return null;
  }

  /** x·cos + rotate_half(x)·sin per head; x: [rows, heads·d], cos/sin: [rows, 1, d]. */
  private applyRope(x: Tensor2D, heads: number, cos: Tensor, sin: Tensor): Tensor2D {
    return rope(x, heads, cos, sin, this.rotate); // one fused kernel where the backend has it
  }

  /** Grows the RoPE tables when a sequence outruns max_position_embeddings (RoPE itself has no length limit). */
  protected override prepare(totalLength: number): void {
    if (totalLength <= this.rope.cos.shape[0]) return;
    const old = this.rope;
    this.rope = ropeTables(Math.max(totalLength, 2 * old.cos.shape[0]), this.c.head_dim, this.c.rope_theta);
    old.cos.dispose(); // a tape that gathered from them holds its own references
    old.sin.dispose();
  }

  protected run(inputIds: Tensor2D, ctx: StepContext, o: StepOptions): StepOutput {
    const c = this.c;
    const { batch: B, length: T } = ctx;
    const D = c.hidden_size, H = c.num_attention_heads, G = c.num_key_value_heads, hd = c.head_dim;
    const hidden: Tensor3D[] = [];
    const record = (x: Tensor2D) => o.hiddenStates && hidden.push(tf.reshape(x, [B, T, D]));
    const bias = (name: string) => this.params.get(name);

    // rotary tables at each token's position (positions skip padding)
    const flatPos = tf.reshape(ctx.positions, [B * T]);
    const cos = tf.reshape(tf.gather(this.rope.cos, flatPos), [B * T, 1, hd]);
    const sin = tf.reshape(tf.gather(this.rope.sin, flatPos), [B * T, 1, hd]);

    // the residual stream stays 2-D [B·T, D] so every projection is one plain matmul
    let x = tf.gather(this.p('model.embed_tokens.weight'), tf.reshape(inputIds, [B * T])) as Tensor2D;
    record(x);
    const cache: KVCache = [];
    // one decoder layer; `lin` adds the adapter's delta (LoRA) where one is attached
    const lin = (x: Tensor2D, m: string) => this.adapted(m, x, linear(x, this.p(`${m}.weight`), bias(`${m}.bias`)) as Tensor2D);
    const checkpoint = !o.cache && !o.useCache;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const l = `model.layers.${i}.`;
      const block = (x: Tensor2D, [cos, sin, bias]: Tensor[]): Tensor2D => {
        const ctxi = { ...ctx, bias: bias as typeof ctx.bias };
        // attention block: x + o_proj(attn(rope(q), rope(k), v))
        const h = rmsNorm(x, this.p(`${l}input_layernorm.weight`), c.rms_norm_eps);
        const q = this.applyRope(lin(h, `${l}self_attn.q_proj`), H, cos, sin);
        const k = this.applyRope(lin(h, `${l}self_attn.k_proj`), G, cos, sin);
        const v = lin(h, `${l}self_attn.v_proj`);
        const att = attention(q, k, v, ctxi, { heads: H, kvHeads: G, headDim: hd }, o.cache?.[i] ?? null, !!o.useCache);
        if (att.cache) cache.push(att.cache);
        x = tf.add(x, lin(att.out, `${l}self_attn.o_proj`));
        // SwiGLU MLP (Shazeer 2020): down(silu(gate(h)) ⊙ up(h))
        const h2 = rmsNorm(x, this.p(`${l}post_attention_layernorm.weight`), c.rms_norm_eps);
        const gate = lin(h2, `${l}mlp.gate_proj`);
        const up = lin(h2, `${l}mlp.up_proj`);
        return tf.add(x, lin(swiglu(gate, up) as Tensor2D, `${l}mlp.down_proj`));
      };
      const consts = [cos, sin, ctx.bias];
      x = checkpoint ? this.layer(x, this.layerParams(l), consts, block) : block(x, consts);
      record(x);
    }
    let out = rmsNorm(x, this.p('model.norm.weight'), c.rms_norm_eps);
    if (o.lastOnly) out = lastRows(out, B, T);
    const head = c.tie_word_embeddings ? this.p('model.embed_tokens.weight') : this.p('lm_head.weight');
    const logits = tf.reshape(matmul(out, head, false, true), [B, o.lastOnly ? 1 : T, c.vocab_size]) as Tensor3D;
    return { logits, hiddenStates: o.hiddenStates ? hidden : undefined, cache: cache.length ? cache : undefined };
  }

  protected override disposeConstants(): void {
    this.rotate.dispose();
    this.rope.cos.dispose();
    this.rope.sin.dispose();
  }
}

export const llamaFamily: ModelFamily = {
  modelTypes: ['llama', 'mistral', 'qwen2'],
  parseConfig,
  parameterShapes,
  init,
  canonicalName(stored, config) {
    if (stored.endsWith('.rotary_emb.inv_freq')) return null; // a buffer older checkpoints saved
    if (stored === 'lm_head.weight' && (config as LlamaConfig).tie_word_embeddings) return null;
    return stored;
  },
  build: (config, params) => new Llama(config, params),
  serializeConfig: (config) => ({ ...config }),
};

// What every decoder-only family shares: the padding-aware causal mask, position ids, scaled dot-product attention
// with grouped-query heads and a KV cache, and the CausalLM plumbing (params, frozen copies, dispose).
// The per-family math (norms, MLPs, embeddings) lives in llama.ts and gpt2.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-core';
import type { ForwardInput, ForwardOptions, ForwardOutput, GenerationOptions, GenerativeLM, ModelConfig, ParamMap } from '@unlearn/core';
import { causalAttention } from '@unlearn/tensors';
import { generateTokens } from './generate.js';

/** Keys and values of one layer, as attention consumes them: [batch, kvHeads, pastLength, headDim]. */
export interface LayerCache {
  key: Tensor4D;
  value: Tensor4D;
}
/** One entry per layer. Owned by the caller: dispose with `disposeCache`. */
export type KVCache = LayerCache[];

export function disposeCache(cache: KVCache | null | undefined): void {
  for (const c of cache ?? []) {
    c.key.dispose();
    c.value.dispose();
  }
}

/** Per-call inputs every layer needs, built once per forward from the attention mask (no parameter flows into them). */
export interface StepContext {
  batch: number;
  /** New tokens in this call. */
  length: number;
  /** Additive attention bias [batch, 1, length, pastLength + length]: 0 where attending is allowed, ≤ −1e9 elsewhere. */
  bias: Tensor4D;
  /** Position of each new token counted over real (unmasked) tokens only, int32 [batch, length]. */
  positions: Tensor2D;
}

export interface StepOptions {
  /** Return the residual stream (index 0 = embeddings, index i = output of layer i). */
  hiddenStates?: boolean;
  /** Return (and extend) a KV cache. */
  cache?: KVCache | null;
  useCache?: boolean;
  /** Compute logits for the last position only (generation). */
  lastOnly?: boolean;
}

export interface StepOutput {
  logits: Tensor3D;
  hiddenStates?: Tensor3D[];
  cache?: KVCache;
}

/** Masked entries get this additive bias: finite, so a fully masked row (a left-pad query) is never NaN. */
const MASKED = -1e9;

/**
 * Causal + padding mask as an additive bias, and position ids that skip padding (HF generate's
 * `position_ids = cumsum(attention_mask) - 1`). Both derive from the mask only, so they are constants to the tape and
 * a left-padded row computes exactly what the unpadded row does.
 * `window`: sliding-window attention (Mistral): a query attends to at most `window` keys ending at itself.
 */
export function stepContext(attentionMask: Tensor2D, length: number, window?: number | null): StepContext {
  return tf.tidy(() => {
    const [batch, total] = attentionMask.shape;
    const past = total - length;
    const allowed = new Float32Array(length * total);
    for (let i = 0; i < length; i++) {
      const q = past + i;
      const lo = window ? Math.max(0, q - window + 1) : 0;
      for (let j = lo; j <= q; j++) allowed[i * total + j] = 1;
    }
    // padding keys cost −1e9, future keys −2e9: a query whose past is all padding (left padding) still attends only to
    // its past (uniformly), so even padding positions never see later tokens and cached steps equal a full forward
    const keyOk = tf.reshape(tf.cast(attentionMask, 'float32'), [batch, 1, 1, total]);
    const causal = tf.tensor4d(allowed, [1, 1, length, total]);
    const bias = tf.add(tf.mul(tf.sub(1, keyOk), MASKED), tf.mul(tf.sub(1, causal), 2 * MASKED)) as Tensor4D;
    const counted = tf.sub(tf.cumsum(tf.cast(attentionMask, 'float32'), 1), 1);
    const newPart = past > 0 ? tf.slice(counted, [0, past], [batch, length]) : counted;
    const positions = tf.cast(tf.maximum(newPart, 0), 'int32') as Tensor2D;
    return { batch, length, bias, positions };
  });
}

export function disposeStepContext(ctx: StepContext): void {
  ctx.bias.dispose();
  ctx.positions.dispose();
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017, eq. 1) with grouped-query heads (Ainslie et al. 2023).
 * q: [batch·length, heads·headDim]; k, v: [batch·length, kvHeads·headDim] for the NEW tokens. Query heads
 * h = g·rep + r share key/value head g (HF `repeat_kv`): folding `rep` into the query axis gives one batched matmul
 * [batch·kvHeads, rep·length, headDim] per product, without copying keys. Returns [batch·length, heads·headDim] and
 * the layer's extended cache when `past` is given or `keep` is set.
 */
export function attention(
  q: Tensor2D, k: Tensor2D, v: Tensor2D, ctx: StepContext,
  dims: { heads: number; kvHeads: number; headDim: number },
  past: LayerCache | null, keep: boolean,
): { out: Tensor2D; cache?: LayerCache } {
  const { batch: B, length: T } = ctx;
  const { heads: H, kvHeads: G, headDim: D } = dims;
  const toHeads = (x: Tensor, n: number) => tf.transpose(tf.reshape(x, [B, T, n, D]), [0, 2, 1, 3]) as Tensor4D;
  let key = toHeads(k, G);
  let value = toHeads(v, G);
  if (past) {
    key = tf.concat([past.key, key], 2);
    value = tf.concat([past.value, value], 2);
  }
  // fused (FlashAttention-2) on the native backend; elsewhere the composed matmul → +bias → softmax → matmul
  const mixed = causalAttention(toHeads(q, H), key, value, { scale: 1 / Math.sqrt(D), bias: ctx.bias });
  const out = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [B * T, H * D]) as Tensor2D;
  return { out, cache: past || keep ? { key, value } : undefined };
}

/**
 * y = f(x) whose backward recomputes f (activation checkpointing, Chen et al. 2016 "Training Deep Nets with Sublinear
 * Memory Cost"): the forward keeps only x (f's intermediates are freed at once); the gradient re-runs f under its own
 * tape and returns dy-weighted gradients for x and for each trainable weight f reads.
 */
function checkpointed<C extends Tensor[]>(x: Tensor2D, weights: tf.Variable[], consts: C, f: (x: Tensor2D, consts: C) => Tensor2D): Tensor2D {
  const trainable = weights.filter((w) => w.trainable);
  const n = consts.length;
  const fn = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xin = args[0] as Tensor2D;
    const cs = args.slice(1, 1 + n) as C;
    save([xin, ...cs]); // saved tensors outlive the forward's tidy; the recompute reads them
    return {
      value: tf.tidy(() => f(xin, cs)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        // tfjs keeps one global tape: a gradient taken inside a gradient function would replace (and then clear) the
        // outer one, so it is put back afterwards
        const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outer = state.activeTape;
        const xv = tf.variable(saved[0], true); // shares x's buffer
        const savedConsts = saved.slice(1) as C;
        try {
          const { grads } = tf.variableGrads(() => tf.sum(tf.mul(f(xv as unknown as Tensor2D, savedConsts), dy)) as tf.Scalar, [xv, ...trainable]);
          const dx = grads[xv.name] ?? tf.zerosLike(xv);
          return [dx, ...savedConsts.map((c) => tf.zerosLike(c)), ...trainable.map((w) => grads[w.name] ?? tf.zerosLike(w))];
        } finally {
          state.activeTape = outer;
          xv.dispose();
        }
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (fn as unknown as (...a: Tensor[]) => Tensor2D)(x, ...consts, ...trainable);
}

/** Rows of a [batch·length, d] tensor at each sequence's last position: [batch, d]. */
export function lastRows(x: Tensor2D, batch: number, length: number): Tensor2D {
  if (length === 1) return x;
  const d = x.shape[1];
  return tf.reshape(tf.slice(tf.reshape(x, [batch, length, d]), [0, length - 1, 0], [batch, 1, d]), [batch, d]);
}

export function checkInput(name: string, inputIds: Tensor2D, attentionMask: Tensor2D | undefined, cacheLength: number): void {
  if (inputIds.rank !== 2) throw new Error(`${name}.forward: inputIds must be [batch, seq], got shape [${inputIds.shape}]`);
  if (inputIds.dtype !== 'int32') throw new Error(`${name}.forward: inputIds must be int32, got ${inputIds.dtype}`);
  const want = [inputIds.shape[0], cacheLength + inputIds.shape[1]];
  if (attentionMask && (attentionMask.rank !== 2 || attentionMask.shape[0] !== want[0] || attentionMask.shape[1] !== want[1])) {
    throw new Error(`${name}.forward: attentionMask shape [${attentionMask.shape}] should be [${want}]`);
  }
}

/**
 * Adds a module's extra output to a linear layer (LoRA: (α/r)·B·A·x, ./lora.ts). `module` is the layer's HF module path
 * (`model.layers.0.self_attn.q_proj`); null = no change.
 */
export interface LinearAdapter {
  delta(module: string, x: Tensor2D): Tensor2D | null;
  /** The adapter's own variables (owned by the adapter; listed in the adapted model's params). */
  readonly params: ParamMap;
  /** True while the delta is random (dropout in training): a recomputed layer would not see the same draw. */
  readonly stochastic?: boolean;
  dispose(): void;
}

/** A decoder-only transformer whose parameters are tf.Variables named by their Hugging Face state-dict keys. */
export abstract class TransformerLM implements GenerativeLM {
  readonly config: ModelConfig;
  readonly params: ParamMap;
  /** generation_config.json as loaded (eos_token_id, do_sample, …), written back by saveModel. */
  generationConfig?: Record<string, unknown>;
  /** Low-rank (or other) additions to linear layers; set on views made by `view(adapter)` (./lora.ts: applyLora, loadLora). */
  adapter: LinearAdapter | null = null;
  /** The model this one is a view of (shares its weight variables); null for a model that owns its weights. */
  base: TransformerLM | null = null;
  /**
   * Activation checkpointing (Chen et al. 2016): each layer's activations are recomputed in the backward pass instead of
   * being kept from the forward (tf.customGrad per layer), so a step holds one layer's activations at a time.
   */
  gradientCheckpointing = false;
  /** On a view: dispose the base model too when this one is disposed (the view owns it). */
  disposeBase = false;
  private disposed = false;

  protected constructor(config: ModelConfig, params: ParamMap) {
    this.config = config;
    this.params = params;
  }

  /** The family name (`llama`, `gpt2`): how `saveModel` and `frozenCopy` know what this is. */
  abstract readonly family: string;
  abstract readonly numLayers: number;
  /** Longest sequence (cache included) the model accepts, or null for no limit. */
  abstract readonly maxLength: number | null;
  /** Builds the same architecture over other parameters (used by `frozenCopy`). */
  protected abstract withParams(params: ParamMap): TransformerLM;
  /** The family's math over one step; runs inside tf.tidy. */
  protected abstract run(inputIds: Tensor2D, ctx: StepContext, options: StepOptions): StepOutput;
  /** Called before each step, outside tf.tidy, with the total length (cache included): grow constant tables here. */
  protected prepare(_totalLength: number): void {}
  protected slidingWindow(): number | null {
    return null;
  }

  /** The layer's output plus the adapter's delta for `module` when an adapter is attached. */
  protected adapted(module: string, x: Tensor2D, y: Tensor2D): Tensor2D {
    const d = this.adapter?.delta(module, x);
    return d ? (tf.add(y, d) as Tensor2D) : y;
  }

  /**
   * Runs one layer `f(x, consts)` — differentiable in x and in `weights`; `consts` are the per-call tensors it reads
   * (rotary tables, attention bias), kept for the recompute — keeping no activations when gradientCheckpointing is on:
   * the backward pass recomputes f under its own tape (tf.customGrad) and returns ∂/∂x and ∂/∂w of trainable weights.
   */
  protected layer<C extends Tensor[]>(x: Tensor2D, weights: tf.Variable[], consts: C, f: (x: Tensor2D, consts: C) => Tensor2D): Tensor2D {
    if (!this.gradientCheckpointing) return f(x, consts);
    if (this.adapter?.stochastic) throw new Error(`${this.family}: gradientCheckpointing recomputes each layer, so it cannot be combined with adapter dropout while training (set dropout 0)`);
    return checkpointed(x, weights, consts, f);
  }

  /** Every parameter under a layer's prefix (its weights and any adapter's): what a checkpointed layer differentiates. */
  protected layerParams(prefix: string): tf.Variable[] {
    if (!this.gradientCheckpointing) return [];
    return [...this.params].filter(([name]) => name.startsWith(prefix)).map(([, v]) => v);
  }

  protected p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`${this.family}: parameter "${name}" is missing`);
    return v;
  }

  /** Logits for every position; differentiable in every parameter. Padding may be on either side. */
  forward(input: ForwardInput, options: ForwardOptions = {}): ForwardOutput {
    const out = this.step(input, { hiddenStates: options.hiddenStates });
    return options.hiddenStates ? { logits: out.logits, hiddenStates: out.hiddenStates } : { logits: out.logits };
  }

  /** Continues each prompt (core's GenerativeLM: what generation metrics call); see ./generate.ts for the options. */
  generateTokens(prompts: readonly (readonly number[])[], options: GenerationOptions = {}): Promise<number[][]> {
    return generateTokens(this, prompts, options, options.defaultEosTokenId ?? null);
  }

  /**
   * One step of incremental decoding (or a plain forward): `input.attentionMask` covers the cached tokens AND the new
   * ones ([batch, pastLength + newLength]). With `useCache`/`cache` the returned cache holds keys/values of all tokens
   * so far; the cache passed in is left untouched (the caller disposes it).
   */
  step(input: ForwardInput, options: StepOptions = {}): StepOutput {
    if (this.disposed) throw new Error(`${this.family}: the model was disposed`);
    const { inputIds } = input;
    const pastLength = options.cache?.[0]?.key.shape[2] ?? 0;
    checkInput(this.family, inputIds, input.attentionMask, pastLength);
    const [batch, length] = inputIds.shape;
    if (this.maxLength !== null && pastLength + length > this.maxLength) {
      throw new Error(`${this.family}.forward: sequence length ${pastLength + length} exceeds the model's ${this.maxLength} positions`);
    }
    this.prepare(pastLength + length);
    return tf.tidy(() => {
      const mask = input.attentionMask ?? tf.ones([batch, pastLength + length], 'int32');
      const ctx = stepContext(mask as Tensor2D, length, this.slidingWindow());
      return this.run(inputIds, ctx, options) as unknown as tf.TensorContainer;
    }) as unknown as StepOutput;
  }

  /**
   * An independent copy with non-trainable variables (the reference model of KL / NPO / DPO). The copy's variables share
   * the original's buffers (tfjs reference-counts them): nothing is duplicated until the original's values change. On a
   * model with an adapter the copy is the base with the adapter switched off: a view over the same weights, no copy.
   */
  frozenCopy(): TransformerLM {
    if (this.adapter && this.base) return this.base.view(null);
    const params: ParamMap = new Map();
    for (const [name, v] of this.params) params.set(name, tf.variable(v, false));
    const copy = this.withParams(params);
    copy.generationConfig = this.generationConfig;
    return copy;
  }

  /**
   * The same architecture over the same weight variables with `adapter` attached (null: none); its params are this
   * model's plus the adapter's. Disposing the view disposes the adapter and the view's constants, never the weights.
   */
  view(adapter: LinearAdapter | null): TransformerLM {
    const params: ParamMap = new Map(this.params);
    if (adapter) for (const [name, v] of adapter.params) params.set(name, v);
    const m = this.withParams(params);
    m.generationConfig = this.generationConfig;
    m.gradientCheckpointing = this.gradientCheckpointing;
    m.adapter = adapter;
    m.base = this;
    return m;
  }

  /** The same architecture over `params`, which the new model owns (its dispose frees them). */
  rebuild(params: ParamMap): TransformerLM {
    const m = this.withParams(params);
    m.generationConfig = this.generationConfig;
    m.gradientCheckpointing = this.gradientCheckpointing;
    return m;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.base) {
      this.adapter?.dispose();
      if (this.disposeBase) this.base.dispose();
    } else for (const v of this.params.values()) v.dispose();
    this.disposeConstants();
  }

  protected disposeConstants(): void {}
}

// The shared, versioned contracts of unlearn. Every objective, optimizer, mask builder, metric and model
// implements or consumes these; an implementation published by anyone depends on @unlearn/core alone.
// Type-only imports: this file has no runtime dependency on a backend.
import type { Scalar, Tensor, Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs-core';

/**
 * Version of these interfaces; bumped on any breaking change to a shape below. Every objective, optimizer, mask builder
 * and metric carries it (`specificationVersion: 'v1'`, as vercel/ai's providers do), and the registry refuses an
 * implementation whose version is missing or different — a plugin built against another @unlearn/core fails at once.
 */
export const specificationVersion = 'v1' as const;
export type SpecificationVersion = typeof specificationVersion;

/** Trainable parameters keyed by their Hugging Face state-dict names (e.g. `model.layers.0.self_attn.q_proj.weight`). */
export type ParamMap = Map<string, Variable>;
/** Tensors keyed by parameter name: gradients, optimizer state, masks, curvature estimates. */
export type TensorMap = Map<string, Tensor>;

/** A Hugging Face `config.json`, as read. Architecture-specific keys stay in their HF snake_case spelling. */
export interface ModelConfig {
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  [key: string]: unknown;
}

/**
 * One tokenized batch. All int32, shape [batch, seq].
 * - `attentionMask`: 1 for real tokens, 0 for padding.
 * - `labels`: Hugging Face convention — aligned with `inputIds` (the loss shifts internally: logits at t predict
 *   labels at t+1); IGNORE_INDEX (./labels.ts) marks tokens that carry no loss (prompt, padding).
 */
export interface TokenBatch {
  inputIds: Tensor2D;
  attentionMask: Tensor2D;
  labels: Tensor2D;
}

/** The batch an unlearning step sees. `alternate` holds e.g. refusal ("I don't know") answers to the forget questions. */
export interface UnlearnBatch {
  forget: TokenBatch;
  retain?: TokenBatch;
  alternate?: TokenBatch;
}

/** The batch a fine-tuning step sees: next-token NLL on the labelled tokens of `train` (no forget/retain roles). */
export interface FinetuneBatch {
  train: TokenBatch;
}

export interface ForwardInput {
  inputIds: Tensor2D;
  attentionMask?: Tensor2D;
}

export interface ForwardOptions {
  /** Also return the residual stream: index 0 = embeddings, index i = output of layer i (length numLayers + 1). */
  hiddenStates?: boolean;
}

export interface ForwardOutput {
  /** [batch, seq, vocab] */
  logits: Tensor3D;
  hiddenStates?: Tensor3D[];
}

/** A causal language model whose parameters are tf.Variables named by HF keys; `forward` is differentiable in all of them. */
export interface CausalLM {
  readonly config: ModelConfig;
  readonly params: ParamMap;
  forward(input: ForwardInput, options?: ForwardOptions): ForwardOutput;
  /** An independent, non-trainable copy: the reference model for KL / NPO / DPO. */
  frozenCopy(): CausalLM;
  dispose(): void;
}

/** Decoding settings of {@link GenerativeLM.generateTokens}. */
export interface GenerationOptions {
  /** Tokens to add after each prompt (default 32). */
  maxNewTokens?: number;
  /** Sample instead of taking the argmax (default: generation_config.json's do_sample, else false). */
  doSample?: boolean;
  /** Softmax temperature when sampling (default 1). */
  temperature?: number;
  /** Keep the k most likely tokens when sampling (0 or undefined: all). */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches p (default 1: all). */
  topP?: number;
  /** Seed of the sampler; row r of a batch draws from its own stream, so a row's tokens do not depend on its batch. */
  seed?: number;
  /** Stop tokens (default: generation_config.json's eos_token_id, else `defaultEosTokenId`). null: never stop early. */
  eosTokenId?: number | readonly number[] | null;
  /** The stop token when neither `eosTokenId` nor the model's config names one (e.g. the tokenizer's EOS). */
  defaultEosTokenId?: number | null;
  /** Id written into padding positions (masked out; default pad, else EOS, else 0). */
  padTokenId?: number;
}

/** A causal LM that can also continue prompts (greedy or sampled): what generation-based metrics (ROUGE) need. */
export interface GenerativeLM extends CausalLM {
  /**
   * Continues each prompt (token ids, BOS included as the model expects) by up to `maxNewTokens` tokens; returns the
   * new ids per prompt (ending with the stop token when generation stopped there).
   */
  generateTokens(prompts: readonly (readonly number[])[], options?: GenerationOptions): Promise<number[][]>;
}

/**
 * What a tokenizer offers the rest of unlearn; @unlearn/models implements it over HF `tokenizer.json`.
 * Asynchronous because the HF `tokenizers` Node binding is (its work runs off the main thread).
 */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  /** Adds BOS/EOS as tokenizer_config.json says when `addSpecialTokens` is true (the default). */
  encode(text: string, options?: { addSpecialTokens?: boolean }): Promise<number[]>;
  encodeBatch(texts: readonly string[], options?: { addSpecialTokens?: boolean }): Promise<number[][]>;
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): Promise<string>;
  /** Jinja chat template from tokenizer_config.json, when the checkpoint has one. */
  readonly chatTemplate?: string;
  /** Special token strings by role, from tokenizer_config.json (bos_token, eos_token, …). */
  readonly specialTokens: Record<string, string>;
}

export interface ObjectiveContext {
  /** The frozen model before unlearning; present when `needs.reference`. */
  reference?: CausalLM;
  step: number;
}

/** A loss plus named parts for logging (e.g. `forget`, `retain`). Parts are reported, the loss is minimised. */
export interface ObjectiveOutput {
  loss: Scalar;
  parts?: Record<string, Scalar>;
}

/** An unlearning objective: a loss to MINIMISE, built from differentiable tfjs ops. */
export interface Objective {
  readonly name: string;
  /** The version of these interfaces the implementation was built against: `'v1'`. */
  readonly specificationVersion: SpecificationVersion;
  readonly needs: { retain?: boolean; reference?: boolean; alternate?: boolean; hiddenStates?: boolean };
  loss(model: CausalLM, batch: UnlearnBatch, ctx: ObjectiveContext): Scalar | ObjectiveOutput;
  /**
   * What this objective's curvature is, for second-order optimizers (Sophia's GNB estimator). Absent = unknown: such
   * optimizers fall back to the CE of the forget (+ retain) tokens, as Sophia's paper does for language modelling.
   */
  readonly curvature?: ObjectiveCurvature;
}

/**
 * The objective's loss seen as a weighted sum of per-position cross-entropies, L ≈ Σ_t c_t·CE(z_t, y_t) with outer
 * weights c_t = ∂L/∂CE_t at the current parameters (−1/B_f for GA's forget tokens, −(2/n)σ(β·r_i) for NPO's,
 * +α/B_r for an NLL retain term, …). Its Gauss-Newton diagonal is Σ_t |c_t|·diag(J_tᵀ(diag p_t − p_t p_tᵀ)J_t)
 * (the outer function's own curvature is left out, as in any Gauss-Newton matrix; |c_t| keeps the preconditioner
 * positive where the objective ascends a CE). `gauss-newton`: `sampledLoss(seed)` returns Σ_t √|c_t|·CE(z_t, ŷ_t) with
 * ŷ_t ~ softmax(z_t) drawn inside the op and c_t held constant, so ĝ = ∇sampledLoss has E[ĝ⊙ĝ] = that diagonal
 * (Sophia's GNB, Liu et al. 2023, Alg. 2, generalised to outer weights). `none`: the loss is not of that form (RMU's
 * activation distances); optimizers use the empirical Fisher of the loss gradient instead and say so.
 */
export type ObjectiveCurvature =
  | { readonly kind: 'gauss-newton'; sampledLoss(model: CausalLM, batch: UnlearnBatch, ctx: ObjectiveContext, seed: number): Scalar }
  | { readonly kind: 'none'; readonly reason: string };

/**
 * Curvature information a second-order (or gradient-free) optimizer may ask for at the current step. Everything is
 * computed from FIRST-order gradients or forward passes — TensorFlow.js has no reliable double backprop.
 * Built lazily by the Trainer from the step's batch: nothing is computed until an optimizer asks.
 * Returned maps are owned by the caller (dispose them); every map covers the step's trainable parameters.
 * Whatever needs a number on the host (a count, a loss, a norm) is asynchronous: backends such as WebGPU in Node have no
 * synchronous readback, so an implementation downloads with `await tensor.data()`, never `dataSync()`.
 */
export interface CurvatureProbe {
  /**
   * Number of loss-bearing tokens in the step's batch, forget and retain parts together (Sophia's B). At most one
   * download, cached; none when the Trainer built the probe (it passes the counts read with the step's loss).
   */
  batchTokens(): Promise<number>;
  /**
   * Gauss-Newton-Bartlett (Sophia, Alg. 2): ∇ (1/B)·Σ CE(logits, ŷ) with ŷ ~ softmax(logits) sampled from the model
   * at every loss-bearing position of the batch; the optimizer forms ĥ = B·ĝ⊙ĝ. Deterministic in `seed`. No download.
   */
  sampledLabelGrads(seed: number): TensorMap;
  /**
   * ĝ = ∇ of the objective's `curvature.sampledLoss(seed)` (see {@link ObjectiveCurvature}): E[ĝ⊙ĝ] is the diagonal of
   * the objective's own Gauss-Newton matrix, so ĥ = ĝ⊙ĝ needs no batch size. `null` when the objective declares that
   * Gauss-Newton does not apply; absent on probes that predate objective curvature (then use `sampledLabelGrads`).
   */
  gaussNewtonGrads?(seed: number): TensorMap | null;
  /** Finite-difference Hessian-vector product of the objective: (∇ℓ(θ+εv) − ∇ℓ(θ−εv)) / 2ε; names missing from `v` are 0. */
  hessianVectorProduct(v: TensorMap): Promise<TensorMap>;
  /**
   * The objective's value at the CURRENT parameter values as a scalar tensor (the caller disposes it), forward only and
   * no download: zeroth-order optimizers evaluate several perturbed points and read them back together.
   */
  loss(): Scalar;
  /** `loss()` read back to the host (one download). */
  lossValue(): Promise<number>;
  /** The retain set's curvature, for influence unlearning; present when the batch has a retain part. */
  readonly retain?: RetainCurvature;
}

/**
 * A whole set of examples (every forget batch, or the retain set or a stated sample of it), for one-shot methods such
 * as influence unlearning that need more than the step's batch. Built by whoever holds the data (the pipeline) when
 * the optimizer's `needs` ask for it, and passed as `StepContext.sets`. Losses are token-weighted mean NLLs over the
 * whole set; gradients are accumulated batch by batch, so the set never has to fit in one forward pass.
 */
export interface ExampleSetCurvature {
  /** Examples (rows) that carry loss. */
  examples(): Promise<number>;
  /** Loss-bearing tokens over the whole set. */
  tokens(): Promise<number>;
  /** ∇ of the set's mean NLL (per loss-bearing token). */
  gradient(): Promise<TensorMap>;
  /** One gradient of the mean NLL per example (row), in order: for WoodFisher's empirical Fisher. */
  perExampleGradients(): Promise<TensorMap[]>;
  /** Finite-difference HVP of the set's mean NLL. */
  hessianVectorProduct(v: TensorMap): Promise<TensorMap>;
}

/** What data an optimizer needs beyond the step's batch (objectives declare theirs in `Objective.needs`). */
export interface OptimizerNeeds {
  /** Every forget example at once: `StepContext.sets.forget`. */
  forgetSet?: boolean;
  /** The retain set for curvature: all of it (`true`) or its first `examples` examples: `StepContext.sets.retain`. */
  retainSet?: boolean | { examples: number };
}

export interface RetainCurvature {
  /** Number of retain examples (rows of the retain batch that carry loss). */
  examples(): Promise<number>;
  /** Gradient of the mean retain NLL (per loss-bearing token). No download. */
  gradients(): TensorMap;
  /** One gradient of the mean NLL per retain example (per row of the retain batch): for WoodFisher's empirical Fisher. */
  perSampleGradients(): Promise<TensorMap[]>;
  /** Finite-difference HVP of the mean retain NLL. */
  hessianVectorProduct(v: TensorMap): Promise<TensorMap>;
}

/** 1 = the parameter entry may change, 0 = frozen. Same shapes as the parameters it covers; missing names are frozen entirely. */
export type Mask = Map<string, Tensor>;

/** Learning rate at a (0-based) step; @unlearn/optim provides constant, linear and cosine schedules with warmup. */
export type LearningRateSchedule = (step: number) => number;

export interface StepContext {
  /** 0-based step index of the run. */
  step: number;
  /** Learning rate for this step from the schedule; optimizers fall back to their own `lr` when absent. */
  lr?: number;
  probe?: CurvatureProbe;
  mask?: Mask;
  /** Whole example sets, present when the optimizer's `needs` asked for them. */
  sets?: { forget?: ExampleSetCurvature; retain?: ExampleSetCurvature };
  /**
   * Unsigned 32-bit seed for this step's randomness (GNB sampled labels, Hutchinson or zeroth-order directions), drawn by
   * the Trainer from its checkpointed RNG so a resumed run repeats it. Optimizers derive one from `step` when absent.
   */
  seed?: number;
}

/** Numbers an optimizer reports for a step (e.g. `winRate` for Sophia's clip, `loss` for zeroth-order estimates). */
export type StepStats = Record<string, number>;

export interface Optimizer {
  readonly name: string;
  /** The version of these interfaces the implementation was built against: `'v1'`. */
  readonly specificationVersion: SpecificationVersion;
  /**
   * `false` for zeroth-order optimizers: the Trainer then opens no gradient tape and passes an empty `grads` map;
   * the optimizer estimates what it needs through `ctx.probe.loss()` / `lossValue()`.
   */
  readonly usesGradients?: boolean;
  /** Data beyond the step's batch (whole forget / retain sets), as objectives declare theirs. */
  readonly needs?: OptimizerNeeds;
  /**
   * Updates `params` in place. `grads` holds ∇ of the loss to MINIMISE for the parameters that may change (a name
   * missing from `grads` is left alone). Must leave masked-out entries (mask 0) bit-exactly unchanged, state included.
   * May return a Promise (the Trainer awaits it): an optimizer that reads a number back (a win rate, a norm, a loss)
   * must do so with `await tensor.data()` — WebGPU in Node has no synchronous readback. The caller keeps `grads` and
   * `ctx.probe` alive until the returned Promise settles.
   */
  step(params: ParamMap, grads: TensorMap, ctx: StepContext): StepStats | Promise<StepStats>;
  /**
   * A copy of the optimizer state (the caller disposes it), keyed by `<paramName>/<slot>` (e.g.
   * `model.norm.weight/exp_avg`); scalars under plain names (e.g. `step`). `loadState(state())` restores it exactly.
   */
  state(): TensorMap;
  /**
   * Replaces the state with copies of `state`'s tensors (the caller keeps ownership of its map). May return a Promise
   * (scalar counters are read back asynchronously); await it before the next `step`.
   */
  loadState(state: TensorMap): void | Promise<void>;
  dispose(): void;
}

/** Data a mask builder scores parameters on. */
export interface MaskData {
  forget: TokenBatch[];
  retain?: TokenBatch[];
}

export interface MaskBuilder {
  readonly name: string;
  /** The version of these interfaces the implementation was built against: `'v1'`. */
  readonly specificationVersion: SpecificationVersion;
  /** `keep`: fraction of entries (globally ranked across all parameters) that may change, in (0, 1]. */
  build(model: CausalLM, data: MaskData, options: { keep: number }): Promise<Mask>;
}

/** Inputs a metric receives; metrics may read other metrics' results from `results` (open-unlearning style). */
export interface MetricContext {
  model: CausalLM;
  tokenizer?: Tokenizer;
  data: Record<string, unknown>;
  results: Record<string, unknown>;
}

export interface Metric<Result = unknown> {
  readonly name: string;
  /** The version of these interfaces the implementation was built against: `'v1'`. */
  readonly specificationVersion: SpecificationVersion;
  /** Names of metrics whose results this one consumes; they run first. */
  readonly dependsOn?: readonly string[];
  compute(ctx: MetricContext): Promise<Result>;
}

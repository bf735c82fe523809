// The CurvatureProbe of one training step (unlearning or fine-tuning): everything a second-order or zeroth-order optimizer may ask about the
// loss surface at the current parameters, computed from FIRST-order gradients and forward passes only (tfjs has no
// reliable double backprop). Nothing is computed until asked.
//  - GNB (Sophia, Liu et al. 2023, Alg. 2): ĝ = ∇ (1/B) Σ_t CE(logits_t, ŷ_t), ŷ_t ~ softmax(logits_t); and the
//    objective's own Gauss-Newton (gaussNewtonGrads: ∇ of Objective.curvature.sampledLoss, its positions and weights).
//  - Finite-difference HVP: Hv ≈ (∇ℓ(θ+εv) − ∇ℓ(θ−εv)) / 2ε, central differences (error O(ε²)).
//  - Retain curvature for influence unlearning: mean-NLL gradient, per-example gradients, FD HVP of the retain NLL.
// Numbers the host needs (token counts, norms, the loss) are read with `await t.data()`, one download per place and
// never `dataSync()`: WebGPU in Node has no synchronous readback. Gradients divide by token counts on the device.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { IGNORE_INDEX, batchNll, shiftLabels, weightedCrossEntropy } from '@unlearn/core';
import type {
  CausalLM, CurvatureProbe, FinetuneBatch, Objective, ObjectiveContext, ObjectiveOutput, ParamMap, RetainCurvature, TensorMap,
  TokenBatch, UnlearnBatch,
} from '@unlearn/core';
import { sumScalars } from '@unlearn/tensors/sums';

/** Default finite-difference scale: 2·√(fp32 machine ε) — balances truncation O(ε²) against round-off O(u/ε). */
export const DEFAULT_FD_SCALE = 2 * Math.sqrt(2 ** -23);

/** Draws one label per row of `logits` [N, V] (int32 [N]); must be deterministic in `seed`. */
export type LabelSampler = (logits: Tensor2D, seed: number) => Tensor1D;

export interface CurvatureProbeOptions {
  model: CausalLM;
  /** The unlearning objective; absent for a fine-tuning batch (whose loss is the NLL of its `train` part). */
  objective?: Objective;
  batch: UnlearnBatch | FinetuneBatch;
  /** What the objective receives (reference model, step). */
  objectiveContext: ObjectiveContext;
  /** The parameters to differentiate and perturb (default: the model's trainable parameters). */
  params?: ParamMap;
  /** Central-difference step: ε = fdScale·(1 + ‖θ‖)/‖v‖ (default {@link DEFAULT_FD_SCALE}). */
  fdScale?: number;
  /** How GNB draws ŷ from the model's logits (default {@link inverseCdfSampler}). Replace to fix labels in tests. */
  sampleLabels?: LabelSampler;
  /**
   * Loss-bearing tokens of each loss part ({@link StepTask.lossParts}: forget (, retain), or train) — when the caller has already
   * read them back (the Trainer does, with its per-step summary), so `batchTokens()` needs no download of its own.
   */
  tokenCounts?: readonly number[];
}

/** The loss tensor of an objective's output (its parts are for logging only). */
export function lossOf(output: Scalar | ObjectiveOutput): Scalar {
  return output instanceof tf.Tensor ? output : output.loss;
}

/** What one step differentiates, and which of its batch parts carry the loss. */
export interface StepTask {
  /** The loss to minimise (with named parts for logging when the objective reports them). */
  loss(): Scalar | ObjectiveOutput;
  /** Parts whose labelled tokens carry the loss (GNB samples them; their token counts are Sophia's B). */
  lossParts: TokenBatch[];
  /** Every part the step feeds the model (token throughput). */
  allParts: TokenBatch[];
  /** The retain part, for influence unlearning's retain curvature. */
  retain?: TokenBatch;
}

/**
 * The step's task for a batch: `objective.loss` on an unlearning batch (forget (, retain) carry loss), or the mean
 * next-token NLL of a fine-tuning batch's `train` part. `where` prefixes the one-line error of a mismatch.
 */
export function stepTask(model: CausalLM, batch: UnlearnBatch | FinetuneBatch, objective: Objective | undefined, ctx: ObjectiveContext, where = 'stepTask'): StepTask {
  if ('train' in batch) {
    if (objective) throw new Error(`${where}: got a fine-tuning batch ({ train }) and an objective ("${objective.name}"); fine-tuning minimises the NLL of train — drop the objective or pass unlearning batches`);
    const train = batch.train;
    return {
      loss: () => batchNll(model, train),
      lossParts: [train],
      allParts: [train],
    };
  }
  if (!objective) throw new Error(`${where}: got an unlearning batch ({ forget, … }) but no objective`);
  if (objective.needs.retain && !batch.retain) throw new Error(`${where}: objective "${objective.name}" needs a retain batch; this batch has none`);
  if (objective.needs.alternate && !batch.alternate) throw new Error(`${where}: objective "${objective.name}" needs an alternate batch; this batch has none`);
  return {
    loss: () => objective.loss(model, batch, ctx),
    lossParts: batch.retain ? [batch.forget, batch.retain] : [batch.forget],
    allParts: [batch.forget, batch.retain, batch.alternate].filter((p): p is TokenBatch => !!p),
    retain: batch.retain,
  };
}

/**
 * Inverse-CDF sampling with one independent uniform per row: ŷ = #{k : cdf_k < u}. Not tf.multinomial: tfjs 4.22's cpu
 * kernel re-seeds its generator for every row, so all rows share one uniform draw (perfectly correlated labels,
 * which inflates E[ĝ⊙ĝ] by the cross terms), and the wasm backend has no Multinomial kernel at all.
 */
export const inverseCdfSampler: LabelSampler = (logits, seed) =>
  tf.tidy(() => {
    const [n, v] = logits.shape;
    const cdf = tf.cumsum(tf.softmax(logits), 1);
    const u = tf.randomUniform([n, 1], 0, 1, 'float32', seed);
    const below = tf.sum(tf.cast(tf.less(cdf, u), 'int32'), 1);
    return tf.minimum(below, tf.scalar(v - 1, 'int32')) as Tensor1D;
  });

/** Variable-name → parameter-name lookup and the variable list for tf.variableGrads. */
function gradientTarget(params: ParamMap) {
  const byVarName = new Map<string, string>();
  for (const [name, v] of params) byVarName.set(v.name, name);
  return { vars: [...params.values()], byVarName };
}

/** ∇f over `params`, keyed by parameter name; f's value is disposed. Parameters f does not depend on get zeros. */
export function gradientsOf(f: () => Scalar, params: ParamMap): TensorMap {
  const { vars, byVarName } = gradientTarget(params);
  const { value, grads } = tf.variableGrads(f, vars);
  value.dispose();
  const out: TensorMap = new Map();
  for (const [varName, g] of Object.entries(grads)) {
    const name = byVarName.get(varName);
    if (name !== undefined && g) out.set(name, g);
  }
  for (const [name, v] of params) if (!out.has(name)) out.set(name, tf.zerosLike(v));
  return out;
}

/** Runs `f` in a tidy scope and downloads its (small) result asynchronously, disposing it. */
async function read(f: () => Tensor): Promise<Float32Array | Int32Array> {
  const t = tf.tidy(f);
  try {
    return (await t.data()) as Float32Array | Int32Array;
  } finally {
    t.dispose();
  }
}

/** Squared global L2 norm of the tensors of a map, as a scalar tensor (0 for an empty map). Call inside a tidy. */
function squaredNorm(tensors: Iterable<Tensor>): Tensor {
  return sumScalars([...tensors].map((t) => tf.sum(tf.square(t))));
}

/**
 * Central-difference Hessian-vector product of `lossFn` over `params`: (∇ℓ(θ+εv) − ∇ℓ(θ−εv)) / 2ε with
 * ε = scale·(1 + ‖θ‖)/‖v‖. Parameters are restored to their exact original buffers afterwards. ‖v‖ (and ‖θ‖ unless
 * given) come back in one asynchronous download; a bad `v` is rejected before anything is computed.
 */
export async function finiteDifferenceHvp(lossFn: () => Scalar, params: ParamMap, v: TensorMap, scale = DEFAULT_FD_SCALE, thetaNorm?: number): Promise<TensorMap> {
  return (await hvpWithNorm(lossFn, params, v, scale, thetaNorm)).hv;
}

/** {@link finiteDifferenceHvp}, also returning the ‖θ‖ it used (so a caller can cache it: θ does not move within a step). */
async function hvpWithNorm(lossFn: () => Scalar, params: ParamMap, v: TensorMap, scale: number, thetaNorm: number | undefined): Promise<{ hv: TensorMap; thetaNorm: number }> {
  for (const name of v.keys()) {
    if (!params.has(name)) throw new Error(`hessianVectorProduct: v has "${name}", which is not a parameter being differentiated`);
    const vs = v.get(name)!.shape, ps = params.get(name)!.shape;
    if (vs.join() !== ps.join()) throw new Error(`hessianVectorProduct: v["${name}"] has shape [${vs}], the parameter [${ps}]`);
  }
  const norms = await read(() => tf.stack([squaredNorm(v.values()), thetaNorm === undefined ? squaredNorm(params.values()) : tf.scalar(0)]));
  const vNorm = Math.sqrt(norms[0]);
  const theta = thetaNorm ?? Math.sqrt(norms[1]);
  if (vNorm === 0 || !Number.isFinite(vNorm)) {
    if (!Number.isFinite(vNorm)) throw new Error(`hessianVectorProduct: v has a non-finite norm (${vNorm})`);
    return { hv: new Map([...params].map(([name, p]) => [name, tf.zerosLike(p)])), thetaNorm: theta };
  }
  const eps = (scale * (1 + theta)) / vNorm;
  const originals = new Map<string, Tensor>();
  for (const name of v.keys()) originals.set(name, tf.clone(params.get(name)!)); // shares the buffer: no copy
  const gradAt = (sign: 1 | -1): TensorMap => {
    for (const [name, dir] of v) {
      const moved = tf.tidy(() => tf.add(originals.get(name)!, tf.mul(dir, sign * eps)));
      params.get(name)!.assign(moved);
      moved.dispose();
    }
    return gradientsOf(lossFn, params);
  };
  try {
    const plus = gradAt(1);
    const minus = gradAt(-1);
    const out: TensorMap = new Map();
    for (const [name, gp] of plus) {
      const gm = minus.get(name)!;
      out.set(name, tf.tidy(() => tf.div(tf.sub(gp, gm), 2 * eps)));
    }
    tf.dispose([...plus.values(), ...minus.values()]);
    return { hv: out, thetaNorm: theta };
  } finally {
    for (const [name, orig] of originals) {
      params.get(name)!.assign(orig);
      orig.dispose();
    }
  }
}

interface PreparedPart {
  batch: TokenBatch;
  /** Shifted labels flattened, int32 [b·s]. */
  labels: Tensor1D;
  /** 1 where the shifted label carries loss, float32 [b·s]. */
  weights: Tensor1D;
}

function preparePart(batch: TokenBatch): PreparedPart {
  const [labels, weights] = tf.tidy(() => {
    const flat = tf.reshape(shiftLabels(batch.labels), [-1]) as Tensor1D;
    return [flat, tf.cast(tf.notEqual(flat, IGNORE_INDEX), 'float32') as Tensor1D];
  });
  return { batch, labels, weights };
}

/** Logits of `part` as [b·s, V]. */
function flatLogits(model: CausalLM, part: TokenBatch): Tensor2D {
  const { logits } = model.forward({ inputIds: part.inputIds, attentionMask: part.attentionMask });
  const v = logits.shape[2];
  return tf.reshape(logits, [-1, v]) as Tensor2D;
}

function trainableParams(model: CausalLM): ParamMap {
  return new Map([...model.params].filter(([, v]) => v.trainable));
}

/** Live probe: holds small per-batch label tensors until `dispose()`. */
export interface DisposableCurvatureProbe extends CurvatureProbe {
  dispose(): void;
}

/** Builds the CurvatureProbe of one step's batch. Dispose it after the optimizer step. */
export function createCurvatureProbe(options: CurvatureProbeOptions): DisposableCurvatureProbe {
  const { model, objective, batch, objectiveContext } = options;
  const task = stepTask(model, batch, objective, objectiveContext, 'createCurvatureProbe');
  const params = options.params ?? trainableParams(model);
  const fdScale = options.fdScale ?? DEFAULT_FD_SCALE;
  const sampler = options.sampleLabels ?? inverseCdfSampler;
  // Label tensors are prepared on first use and token counts downloaded on first use (once): an optimizer that asks
  // nothing costs nothing, and gradients divide by the counts on the device (max(count, 1): an empty part is all zeros).
  let prepared: PreparedPart[] | undefined;
  // (Never call prep() inside a tidy or gradient scope: the scope would dispose the prepared tensors.)
  const prep = () => (prepared ??= task.lossParts.map(preparePart));
  const partCount = task.lossParts.length;
  if (options.tokenCounts && options.tokenCounts.length !== partCount) {
    throw new Error(`createCurvatureProbe: tokenCounts has ${options.tokenCounts.length} entries, the batch ${partCount} loss-bearing parts (${'train' in batch ? 'train' : `forget${batch.retain ? ', retain' : ''}`})`);
  }
  let counts: Promise<number[]> | undefined = options.tokenCounts ? Promise.resolve([...options.tokenCounts]) : undefined;
  const tokenCounts = () => {
    const parts = prep();
    return (counts ??= read(() => tf.stack(parts.map((p) => tf.sum(p.weights)))).then((c) => Array.from(c)));
  };
  let thetaNorm: number | undefined; // ‖θ‖, downloaded with the first HVP's ‖v‖ and reused by later ones
  const hvp = async (lossFn: () => Scalar, v: TensorMap) => {
    const r = await hvpWithNorm(lossFn, params, v, fdScale, thetaNorm);
    thetaNorm = r.thetaNorm;
    return r.hv;
  };
  const objectiveLoss = () => lossOf(task.loss());

  /** Mean NLL of a part: Σ w·CE / max(Σ w, 1), the count taken on the device (or given when already on the host). */
  const meanNllOf = (part: PreparedPart, count?: number) => (): Scalar => {
    const logits = flatLogits(model, part.batch);
    const denominator = count ?? tf.maximum(tf.sum(part.weights), 1);
    return tf.div(weightedCrossEntropy(logits, part.labels, part.weights), denominator);
  };

  let retain: RetainCurvature | undefined;
  if (task.retain) {
    const retainPart = () => prep()[1];
    let rowCountsRead: Promise<Float32Array | Int32Array> | undefined;
    const rowCounts = () => {
      const part = retainPart();
      const [b, s] = part.batch.inputIds.shape;
      return (rowCountsRead ??= read(() => tf.sum(tf.reshape(part.weights, [b, s]), 1)));
    };
    const rowParts = async (): Promise<{ part: PreparedPart; count: number }[]> => {
      const whole = retainPart();
      const [b, s] = whole.batch.inputIds.shape;
      const counts = await rowCounts();
      const rows: { part: PreparedPart; count: number }[] = [];
      for (let r = 0; r < b; r++) {
        if (counts[r] === 0) continue;
        const slice = (t: Tensor2D) => tf.slice(t, [r, 0], [1, s]) as Tensor2D;
        const row: PreparedPart = {
          batch: { inputIds: slice(whole.batch.inputIds), attentionMask: slice(whole.batch.attentionMask), labels: slice(whole.batch.labels) },
          labels: tf.slice(whole.labels, [r * s], [s]) as Tensor1D,
          weights: tf.slice(whole.weights, [r * s], [s]) as Tensor1D,
        };
        rows.push({ part: row, count: counts[r] });
      }
      return rows;
    };
    retain = {
      examples: async () => (await rowCounts()).filter((c) => c > 0).length,
      gradients: () => gradientsOf(meanNllOf(retainPart()), params),
      perSampleGradients: async () => {
        const rows = await rowParts();
        try {
          return rows.map(({ part, count }) => gradientsOf(meanNllOf(part, count), params));
        } finally {
          for (const { part } of rows) tf.dispose([part.batch.inputIds, part.batch.attentionMask, part.batch.labels, part.labels, part.weights]);
        }
      },
      hessianVectorProduct: (v) => hvp(meanNllOf(retainPart()), v),
    };
  }

  /** ∇ Σ_t CE(z_t, ŷ_t) / B over the loss parts' tokens (ŷ sampled from the model), or / √B with `rootB`. */
  const sampledCe = (seed: number, rootB: boolean): TensorMap => {
    const parts = prep(); // outside the gradient scope, which disposes what it creates
    return gradientsOf(() => {
      const terms = parts.map((part, i) => {
        const logits = flatLogits(model, part.batch);
        return weightedCrossEntropy(logits, (x) => sampler(x, (seed + 7919 * i) >>> 0), part.weights);
      });
      const total = tf.maximum(sumScalars(parts.map((p) => tf.sum(p.weights))), 1);
      return tf.div(sumScalars(terms), rootB ? tf.sqrt(total) : total) as Scalar;
    }, params);
  };

  return {
    batchTokens: async () => (await tokenCounts()).reduce((a, b) => a + b, 0),
    retain,
    sampledLabelGrads: (seed: number) => sampledCe(seed, false),
    // The objective's own Gauss-Newton (Objective.curvature): ĝ = ∇ Σ_t √|c_t|·CE(z_t, ŷ_t), E[ĝ⊙ĝ] its GN diagonal.
    // An objective that declares none gets null (the optimizer falls back and says so); one that declares nothing (a
    // fine-tuning batch, a custom objective) the CE of its loss tokens with c_t = 1/B, i.e. sampledLabelGrads·√B.
    gaussNewtonGrads(seed: number): TensorMap | null {
      const curvature = objective?.curvature;
      if (curvature?.kind === 'none') return null;
      if (curvature?.kind === 'gauss-newton' && !('train' in batch)) {
        return gradientsOf(() => curvature.sampledLoss(model, batch, objectiveContext, seed), params);
      }
      return sampledCe(seed, true);
    },
    hessianVectorProduct: (v) => hvp(objectiveLoss, v),
    loss: () => tf.tidy(objectiveLoss),
    lossValue: async () => (await read(objectiveLoss))[0],
    dispose() {
      if (prepared) for (const p of prepared) tf.dispose([p.labels, p.weights]);
      prepared = undefined;
    },
  };
}

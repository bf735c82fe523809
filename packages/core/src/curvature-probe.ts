// The CurvatureProbe of one unlearning step: everything a second-order or zeroth-order optimizer may ask about the
// loss surface at the current parameters, computed from FIRST-order gradients and forward passes only (tfjs has no
// reliable double backprop). Nothing is computed until asked.
//  - GNB (Sophia, Liu et al. 2023, Alg. 2): ĝ = ∇ (1/B) Σ_t CE(logits_t, ŷ_t), ŷ_t ~ softmax(logits_t).
//  - Finite-difference HVP: Hv ≈ (∇ℓ(θ+εv) − ∇ℓ(θ−εv)) / 2ε, central differences (error O(ε²)).
//  - Retain curvature for influence unlearning: mean-NLL gradient, per-example gradients, FD HVP of the retain NLL.
// Numbers the host needs (token counts, norms, the loss) are read with `await t.data()`, one download per place and
// never `dataSync()`: WebGPU in Node has no synchronous readback. Gradients divide by token counts on the device.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import type {
  CausalLM, CurvatureProbe, Objective, ObjectiveContext, ObjectiveOutput, ParamMap, RetainCurvature, TensorMap,
  TokenBatch, UnlearnBatch,
} from './interfaces.js';

/** Labels at positions that carry no loss (Hugging Face convention). */
export const IGNORE_INDEX = -100;

/** Default finite-difference scale: 2·√(fp32 machine ε) — balances truncation O(ε²) against round-off O(u/ε). */
export const DEFAULT_FD_SCALE = 2 * Math.sqrt(2 ** -23);

/** Draws one label per row of `logits` [N, V] (int32 [N]); must be deterministic in `seed`. */
export type LabelSampler = (logits: Tensor2D, seed: number) => Tensor1D;

export interface CurvatureProbeOptions {
  model: CausalLM;
  objective: Objective;
  batch: UnlearnBatch;
  /** What the objective receives (reference model, step). */
  objectiveContext: ObjectiveContext;
  /** The parameters to differentiate and perturb (default: the model's trainable parameters). */
  params?: ParamMap;
  /** Central-difference step: ε = fdScale·(1 + ‖θ‖)/‖v‖ (default {@link DEFAULT_FD_SCALE}). */
  fdScale?: number;
  /** How GNB draws ŷ from the model's logits (default {@link inverseCdfSampler}). Replace to fix labels in tests. */
  sampleLabels?: LabelSampler;
  /**
   * Loss-bearing tokens of the forget part and, when the batch has one, the retain part — when the caller has already
   * read them back (the Trainer does, with its per-step summary), so `batchTokens()` needs no download of its own.
   */
  tokenCounts?: readonly number[];
}

/** Loss-bearing tokens of a batch part (shifted labels ≠ -100), as a float32 scalar. Call inside a tidy. */
export function lossTokens(part: TokenBatch): Tensor {
  return tf.sum(tf.cast(tf.notEqual(shiftLabels(part.labels), IGNORE_INDEX), 'float32'));
}

/** The loss tensor of an objective's output (its parts are for logging only). */
export function lossOf(output: Scalar | ObjectiveOutput): Scalar {
  return output instanceof tf.Tensor ? output : output.loss;
}

/** Labels moved one position left (logits at t predict the token at t+1); the last position carries no loss. */
export function shiftLabels(labels: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const [b, s] = labels.shape;
    const next = tf.slice(labels, [0, 1], [b, s - 1]);
    return tf.concat([next, tf.fill([b, 1], IGNORE_INDEX, 'int32')], 1) as Tensor2D;
  });
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

/**
 * Σ_t w_t · CE(logits_t, y_t) for logits [N, V], as ONE custom op whose gradient is the analytic
 * w_t·(softmax(logits_t) − onehot(y_t)). `labels` is fixed, or a function of the logits (a sample): drawing it inside
 * the op keeps the draw off the gradient tape — tfjs has no stopGradient, and the draw itself has no gradient.
 */
export function weightedCrossEntropy(
  logits: Tensor2D,
  labels: Tensor1D | ((logits: Tensor2D) => Tensor1D),
  weights: Tensor1D,
): Scalar {
  const op = tf.customGrad(((x: Tensor, save: tf.GradSaveFunc) => {
    const x2 = x as Tensor2D;
    const [n, v] = x2.shape;
    const y = typeof labels === 'function' ? labels(x2) : tf.clone(labels);
    const safe = tf.tidy(() => tf.where(tf.greaterEqual(y, 0), y, tf.zerosLike(y)));
    const logp = tf.logSoftmax(x2);
    const flat = tf.tidy(() => tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), safe));
    const picked = tf.gather(tf.reshape(logp, [n * v]), flat);
    const value = tf.neg(tf.sum(tf.mul(picked, weights)));
    save([x2, safe]);
    tf.dispose([y, logp, flat, picked]);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sy] = saved as [Tensor2D, Tensor1D];
        const coef = tf.reshape(tf.mul(weights, dy), [n, 1]);
        return [tf.mul(tf.sub(tf.softmax(sx), tf.oneHot(sy, v)), coef)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as Scalar;
}

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

/**
 * Σ of scalar tensors as one scalar (0 for none), by stack + sum. Not tf.addN: tfjs-backend-webgpu 4.22 binds one
 * storage buffer per AddN input and ignores the device limit (8 by default), so with ≥ 8 inputs its pipeline is
 * invalid and the whole command batch is silently dropped; stack (concat) splits its inputs to fit. Call inside a tidy.
 */
export function sumScalars(scalars: readonly Tensor[]): Tensor {
  return scalars.length === 0 ? tf.scalar(0) : tf.sum(tf.stack(scalars as Tensor[]));
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
  const params = options.params ?? trainableParams(model);
  const fdScale = options.fdScale ?? DEFAULT_FD_SCALE;
  const sampler = options.sampleLabels ?? inverseCdfSampler;
  // Label tensors are prepared on first use and token counts downloaded on first use (once): an optimizer that asks
  // nothing costs nothing, and gradients divide by the counts on the device (max(count, 1): an empty part is all zeros).
  let prepared: PreparedPart[] | undefined;
  // (Never call prep() inside a tidy or gradient scope: the scope would dispose the prepared tensors.)
  const prep = () => (prepared ??= [batch.forget, ...(batch.retain ? [batch.retain] : [])].map(preparePart));
  const partCount = batch.retain ? 2 : 1;
  if (options.tokenCounts && options.tokenCounts.length !== partCount) {
    throw new Error(`createCurvatureProbe: tokenCounts has ${options.tokenCounts.length} entries, the batch ${partCount} loss-bearing parts (forget${batch.retain ? ', retain' : ''})`);
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
  const objectiveLoss = () => lossOf(objective.loss(model, batch, objectiveContext));

  /** Mean NLL of a part: Σ w·CE / max(Σ w, 1), the count taken on the device (or given when already on the host). */
  const meanNllOf = (part: PreparedPart, count?: number) => (): Scalar => {
    const logits = flatLogits(model, part.batch);
    const denominator = count ?? tf.maximum(tf.sum(part.weights), 1);
    return tf.div(weightedCrossEntropy(logits, part.labels, part.weights), denominator);
  };

  let retain: RetainCurvature | undefined;
  if (batch.retain) {
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

  return {
    batchTokens: async () => (await tokenCounts()).reduce((a, b) => a + b, 0),
    retain,
    sampledLabelGrads(seed: number): TensorMap {
      const parts = prep(); // outside the gradient scope, which disposes what it creates
      return gradientsOf(() => {
        const terms = parts.map((part, i) => {
          const logits = flatLogits(model, part.batch);
          return weightedCrossEntropy(logits, (x) => sampler(x, (seed + 7919 * i) >>> 0), part.weights);
        });
        const total = tf.maximum(sumScalars(parts.map((p) => tf.sum(p.weights))), 1);
        return tf.div(sumScalars(terms), total) as Scalar;
      }, params);
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

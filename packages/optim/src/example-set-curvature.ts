// Curvature of a whole set of examples (the forget set, the retain set), for one-shot methods: the mean NLL over every
// loss-bearing token of the set, its gradient accumulated batch by batch (Σ_b ∇Σ_t CE / T, so no batch has to hold the
// whole set), per-example gradients (WoodFisher's empirical Fisher), and a central-difference HVP of the same loss,
//   Hv ≈ (∇ℓ(θ+εv) − ∇ℓ(θ−εv)) / 2ε,  ε = s·(1 + ‖θ‖)/‖v‖,  s = 2·√(fp32 machine ε)
// (the scheme of the curvature probe). First-order gradients only: tfjs has no reliable double backprop.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core';
import { IGNORE_INDEX, shiftLabels, weightedCrossEntropy } from '@unlearn/core';
import type { CausalLM, ExampleSetCurvature, ParamMap, TensorMap, TokenBatch } from '@unlearn/core';
import { sumScalars } from './scalar-sum.js';

const FD_SCALE = 2 * Math.sqrt(2 ** -23);

export interface ExampleSetOptions {
  /** The parameters to differentiate (default: the model's trainable ones). */
  params?: ParamMap;
  /** Use only the first `examples` loss-bearing rows of the set (a stated sample of a large retain set). */
  examples?: number;
}

/**
 * ∇ (Σ_t CE / divisor) over the loss-bearing (shifted label ≠ -100) positions of `batch`. The label tensors are made
 * outside the gradient scope (which disposes what it creates before the backward pass reads them).
 */
function nllGradient(model: CausalLM, batch: TokenBatch, divisor: number, params: ParamMap): TensorMap {
  const flat = tf.tidy(() => tf.reshape(shiftLabels(batch.labels), [-1]) as Tensor1D);
  const weights = tf.tidy(() => tf.cast(tf.notEqual(flat, IGNORE_INDEX), 'float32') as Tensor1D);
  try {
    return gradientsOf(() => {
      const { logits } = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask });
      return tf.div(weightedCrossEntropy(tf.reshape(logits, [-1, logits.shape[2]]) as Tensor2D, flat, weights), divisor) as Scalar;
    }, params);
  } finally {
    tf.dispose([flat, weights]);
  }
}

/** ∇f over `params`, keyed by parameter name (zeros where f does not depend on a parameter); f's value is disposed. */
function gradientsOf(f: () => Scalar, params: ParamMap): TensorMap {
  const byVar = new Map([...params].map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(f, [...params.values()]);
  value.dispose();
  const out: TensorMap = new Map();
  for (const [varName, g] of Object.entries(grads)) if (g) out.set(byVar.get(varName)!, g);
  for (const [name, v] of params) if (!out.has(name)) out.set(name, tf.zerosLike(v));
  return out;
}

/** The set's rows as single-row batches with their token counts, keeping only rows that carry loss (up to `limit`). */
async function rowsOf(batches: readonly TokenBatch[], limit: number): Promise<{ row: TokenBatch; tokens: number }[]> {
  const counts = await Promise.all(batches.map(async (b) => {
    const t = tf.tidy(() => tf.sum(tf.cast(tf.notEqual(shiftLabels(b.labels), IGNORE_INDEX), 'float32'), 1));
    try {
      return Array.from(await t.data());
    } finally {
      t.dispose();
    }
  }));
  const rows: { row: TokenBatch; tokens: number }[] = [];
  batches.forEach((b, i) => counts[i].forEach((tokens, r) => {
    if (tokens === 0 || rows.length >= limit) return;
    const s = b.inputIds.shape[1];
    const slice = (t: Tensor2D) => tf.slice(t, [r, 0], [1, s]) as Tensor2D;
    rows.push({ row: { inputIds: slice(b.inputIds), attentionMask: slice(b.attentionMask), labels: slice(b.labels) }, tokens });
  }));
  return rows;
}

const disposeRow = (r: TokenBatch) => tf.dispose([r.inputIds, r.attentionMask, r.labels]);

/**
 * The {@link ExampleSetCurvature} of `batches` under `model`. With `examples`, only the first that many loss-bearing rows
 * count (the rows are sliced out once, on first use); the caller keeps ownership of `batches` and disposes the result (after its last call has settled).
 */
export function exampleSetCurvature(model: CausalLM, batches: readonly TokenBatch[], options: ExampleSetOptions = {}): ExampleSetCurvature & { dispose(): void } {
  if (batches.length === 0) throw new Error('exampleSetCurvature: the set has no batches');
  const params = options.params ?? new Map([...model.params].filter(([, v]) => v.trainable));
  const limit = options.examples ?? Infinity;
  if (!(limit > 0)) throw new Error(`exampleSetCurvature: examples must be > 0, got ${options.examples}`);
  let rows: Promise<{ row: TokenBatch; tokens: number }[]> | undefined;
  let sliced: { row: TokenBatch }[] = []; // what dispose() frees
  const sample = () => (rows ??= rowsOf(batches, limit).then((r) => ((sliced = r), r)));
  // whole batches when the set is used whole, single rows when it is cut to a sample
  const parts = async (): Promise<readonly TokenBatch[]> => (limit === Infinity ? batches : (await sample()).map(({ row }) => row));
  const total = async () => (await sample()).reduce((s, x) => s + x.tokens, 0);
  const gradient = async (): Promise<TensorMap> => {
    const T = Math.max(await total(), 1);
    let acc: TensorMap | undefined;
    for (const batch of await parts()) {
      const g = nllGradient(model, batch, T, params);
      if (!acc) acc = g;
      else {
        for (const [name, x] of g) {
          const sum = tf.add(acc.get(name)!, x);
          acc.get(name)!.dispose();
          x.dispose();
          acc.set(name, sum);
        }
      }
    }
    return acc!;
  };
  let thetaNorm: number | undefined;
  return {
    examples: async () => (await sample()).length,
    tokens: total,
    gradient,
    async perExampleGradients() {
      return (await sample()).map(({ row, tokens }) => nllGradient(model, row, tokens, params));
    },
    async hessianVectorProduct(v: TensorMap) {
      for (const name of v.keys()) if (!params.has(name)) throw new Error(`exampleSetCurvature: v has "${name}", which is not a parameter being differentiated`);
      const norms = tf.tidy(() => tf.stack([sumScalars([...v.values()].map((x) => tf.sum(tf.square(x)))), thetaNorm === undefined ? sumScalars([...params.values()].map((p) => tf.sum(tf.square(p)))) : tf.scalar(0)]));
      const [vv, tt] = Array.from(await norms.data());
      norms.dispose();
      thetaNorm ??= Math.sqrt(tt);
      const vNorm = Math.sqrt(vv);
      if (!Number.isFinite(vNorm)) throw new Error(`exampleSetCurvature: v has a non-finite norm (${vNorm})`);
      if (vNorm === 0) return new Map([...params].map(([name, p]) => [name, tf.zerosLike(p)]));
      const eps = (FD_SCALE * (1 + thetaNorm)) / vNorm;
      const originals = new Map<string, Tensor>([...v.keys()].map((name) => [name, tf.clone(params.get(name)!)]));
      const at = async (sign: 1 | -1) => {
        for (const [name, dir] of v) {
          const moved = tf.tidy(() => tf.add(originals.get(name)!, tf.mul(dir, sign * eps)));
          params.get(name)!.assign(moved);
          moved.dispose();
        }
        return gradient();
      };
      try {
        const plus = await at(1);
        const minus = await at(-1);
        const out: TensorMap = new Map();
        for (const [name, gp] of plus) out.set(name, tf.tidy(() => tf.div(tf.sub(gp, minus.get(name)!), 2 * eps)));
        tf.dispose([...plus.values(), ...minus.values()]);
        return out;
      } finally {
        for (const [name, orig] of originals) {
          params.get(name)!.assign(orig);
          orig.dispose();
        }
      }
    },
    dispose() {
      sliced.forEach(({ row }) => disposeRow(row));
      sliced = [];
      rows = undefined;
    },
  };
}

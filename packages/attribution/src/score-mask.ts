// The machinery every mask builder shares: per-parameter scores (tensors) → one global top-k → 0/1 float tensors.
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, Mask, MaskBuilder, MaskData, TensorMap } from '@unlearn/core';
import { checkKeep, keepCount, selectTopK } from './global-top-k.js';
import { rankedParams } from './loss-gradients.js';

/** A mask builder that also exposes its per-entry scores (higher = more worth updating). */
export interface ScoredMaskBuilder extends MaskBuilder {
  /** Per-parameter scores, same shapes as the parameters. The caller disposes the map. */
  scores(model: CausalLM, data: MaskData): Promise<TensorMap>;
}

/** Keeps the round(keep·N) highest-scoring entries across all trainable parameters: 1 = may change, 0 = frozen. */
export async function maskFromScores(name: string, model: CausalLM, scores: TensorMap, keep: number): Promise<Mask> {
  const params = rankedParams(model);
  const host = new Map<string, Float32Array>();
  let total = 0;
  for (const [param, v] of params) {
    const s = scores.get(param);
    if (!s) throw new Error(`${name}: no score for parameter "${param}"`);
    if (s.shape.join() !== v.shape.join()) throw new Error(`${name}: score of "${param}" has shape [${s.shape}] but the parameter has [${v.shape}]`);
    host.set(param, (await s.data()) as Float32Array);
    total += v.size;
  }
  let selected: Map<string, Uint8Array>;
  try {
    selected = selectTopK(host, keepCount(keep, total));
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
  const mask: Mask = new Map();
  for (const [param, v] of params) mask.set(param, tf.tensor(Float32Array.from(selected.get(param)!), v.shape, 'float32'));
  return mask;
}

/** A `ScoredMaskBuilder` from a scoring function. */
export function scoredMaskBuilder(name: string, scores: (model: CausalLM, data: MaskData) => TensorMap): ScoredMaskBuilder {
  return {
    name,
    specificationVersion: 'v1',
    async scores(model, data) {
      return scores(model, data);
    },
    async build(model, data, options) {
      const keep = options?.keep;
      try {
        checkKeep(keep); // before any work
      } catch (e) {
        throw new Error(`${name}: options.${(e as Error).message}`);
      }
      const s = scores(model, data);
      try {
        return await maskFromScores(name, model, s, keep);
      } finally {
        for (const t of s.values()) t.dispose();
      }
    },
  };
}

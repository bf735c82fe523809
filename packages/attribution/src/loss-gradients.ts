// Σ over batches of ∇θ ℓ(batch), ℓ = mean NLL over labelled tokens (HF `outputs.loss`), accumulated on the device.
// This is what WAGLE's reference code feeds its scores (OPTML-Group/WAGLE src/unlearn/generate_mask.py,
// `snip_advanced`: per-batch `outputs.loss` gradients summed over the dataloader) and what SalUn ranks.
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, TensorMap, TokenBatch } from '@unlearn/core';
import { batchNll } from '@unlearn/objectives';

/** The trainable parameters the masks rank, in the model's order. */
export function rankedParams(model: CausalLM): [string, tf.Variable][] {
  const params = [...model.params].filter(([, v]) => v.trainable);
  if (params.length === 0) throw new Error('the model has no trainable parameters to rank');
  return params;
}

/** Σ_b ∇ meanNLL(b) for every trainable parameter (zeros where the loss does not reach it). The caller disposes the map. */
export function summedLossGradients(model: CausalLM, batches: readonly TokenBatch[], what: string): TensorMap {
  if (!Array.isArray(batches) || batches.length === 0) throw new Error(`no ${what} batches: pass at least one TokenBatch in data.${what}`);
  const params = rankedParams(model);
  const sums: TensorMap = new Map(params.map(([name, v]) => [name, tf.zerosLike(v)]));
  for (const batch of batches) {
    const { value, grads } = tf.variableGrads(() => batchNll(model, batch), params.map(([, v]) => v));
    for (const [name, v] of params) {
      const g = grads[v.name];
      if (!g) continue;
      const prev = sums.get(name)!;
      sums.set(name, tf.add(prev, g));
      prev.dispose();
    }
    tf.dispose([value, ...Object.values(grads)]);
  }
  return sums;
}

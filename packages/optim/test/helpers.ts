// Shared test helpers: the PyTorch golden fixture and the toy LM it was computed on.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { CausalLM, ParamMap, TensorMap, UnlearnBatch } from '@unlearn/core';
import { createToyLM, tokenBatch, type ToyWeights } from '@unlearn/test-utils';

export { createToyLM, tokenBatch, toyGA, toyGradDiff, toyWeights, disposeUnlearnBatch, meanNll } from '@unlearn/test-utils';

const here = path.dirname(fileURLToPath(import.meta.url));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const golden: any = JSON.parse(readFileSync(path.join(here, 'fixtures', 'golden.json'), 'utf8'));
export const NAMES = ['model.embed_tokens.weight', 'model.layers.0.mlp.weight', 'model.layers.0.mlp.bias', 'lm_head.weight'];

export const goldenModel = (): CausalLM => createToyLM(golden.init as ToyWeights);
export const goldenBatch = (): UnlearnBatch => ({
  forget: tokenBatch(golden.forget.ids, golden.forget.labels),
  retain: tokenBatch(golden.retain.ids, golden.retain.labels),
});

export const snapshot = (params: ParamMap | TensorMap) => Object.fromEntries([...params].map(([n, v]) => [n, Array.from(v.dataSync())]));
export const disposeMap = (m: TensorMap) => tf.dispose([...m.values()]);

/** Largest |a − b| over all parameters. */
export function maxAbsDiff(actual: Record<string, number[]>, expected: Record<string, number[]>): number {
  let worst = 0;
  for (const [name, values] of Object.entries(expected)) {
    const got = actual[name];
    if (!got || got.length !== values.length) throw new Error(`missing or misshapen "${name}"`);
    values.forEach((e, i) => (worst = Math.max(worst, Math.abs(got[i] - e))));
  }
  return worst;
}

/** A map of tensors with the shapes of `params` from flat number arrays. */
export function mapFrom(params: ParamMap, flat: Record<string, number[]>): TensorMap {
  return new Map([...params].filter(([n]) => flat[n]).map(([n, p]) => [n, tf.tensor(flat[n], p.shape) as Tensor]));
}

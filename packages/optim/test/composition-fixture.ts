// The tiny Llama config and the one padded, prompt-masked unlearning batch the composition suites (full weights and
// LoRA adapters) run every objective × optimizer × mask on.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { TokenBatch, UnlearnBatch } from '@unlearn/core';

export const config = {
  model_type: 'llama', vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2,
  num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 32, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false,
};
const P = -100; // IGNORE_INDEX
const part = (ids: number[][], mask: number[][], labels: number[][]): TokenBatch => ({
  inputIds: tf.tensor2d(ids, undefined, 'int32') as Tensor2D,
  attentionMask: tf.tensor2d(mask, undefined, 'int32') as Tensor2D,
  labels: tf.tensor2d(labels, undefined, 'int32') as Tensor2D,
});
export const unlearnBatch = (): UnlearnBatch => ({
  forget: part([[1, 5, 9, 12, 7, 3], [1, 8, 4, 2, 0, 0]], [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], [[P, P, 9, 12, 7, 3], [P, 8, 4, 2, P, P]]),
  retain: part([[1, 20, 21, 22, 23], [1, 30, 31, 0, 0]], [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], [[P, 20, 21, 22, 23], [P, 30, 31, P, P]]),
  alternate: part([[1, 5, 33, 34, 35], [1, 8, 33, 34, 0]], [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], [[P, P, 33, 34, 35], [P, P, 33, 34, P]]),
});
export const disposeBatch = (b: UnlearnBatch) => Object.values(b).forEach((p: TokenBatch) => tf.dispose([p.inputIds, p.attentionMask, p.labels]));

// A toy causal LM implementing core `CausalLM`, the TS twin of the one in test/fixtures/make_masks.py:
//   h = tanh(E[ids]·W1ᵀ + b1); logits = h·Hᵀ + c.   Test-only (excluded from the build).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs-core';
import type { CausalLM, ForwardInput, ForwardOutput, ParamMap, TokenBatch } from '@unlearn/core';
import { linear } from '@unlearn/tensors';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}
export interface FixtureTokens {
  inputIds: number[][];
  attentionMask: number[][];
  labels: number[][];
}

export class ToyLM implements CausalLM {
  readonly config;
  readonly params: ParamMap = new Map<string, Variable>();

  constructor(weights: Record<string, FixtureTensor>, trainable = true) {
    for (const [name, w] of Object.entries(weights)) {
      this.params.set(name, tf.tidy(() => tf.variable(tf.tensor(w.data, w.shape, 'float32'), trainable)));
    }
    const [vocab, hidden] = this.params.get('model.embed_tokens.weight')!.shape;
    this.config = { model_type: 'toy', vocab_size: vocab, hidden_size: hidden, num_hidden_layers: 1 };
  }

  forward(input: ForwardInput): ForwardOutput {
    return tf.tidy(() => {
      const p = (n: string) => this.params.get(n)!;
      const h = tf.tanh(linear(tf.gather(p('model.embed_tokens.weight'), input.inputIds), p('model.layers.0.mlp.weight'), p('model.layers.0.mlp.bias')));
      return { logits: linear(h, p('lm_head.weight'), p('lm_head.bias')) as Tensor3D };
    });
  }

  frozenCopy(): CausalLM {
    throw new Error('not needed by the mask tests');
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

export function tokenBatch(t: FixtureTokens): TokenBatch {
  return {
    inputIds: tf.tensor2d(t.inputIds, undefined, 'int32') as Tensor2D,
    attentionMask: tf.tensor2d(t.attentionMask, undefined, 'int32') as Tensor2D,
    labels: tf.tensor2d(t.labels, undefined, 'int32') as Tensor2D,
  };
}

export function disposeBatches(batches: TokenBatch[]): void {
  for (const b of batches) tf.dispose([b.inputIds, b.attentionMask, b.labels]);
}

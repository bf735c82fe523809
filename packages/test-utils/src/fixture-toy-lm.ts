// The fixture toy LM implementing core `CausalLM`, the TS twin of the one in objectives' test/fixtures/make_objectives.py
// and attribution's make_masks.py (same model):
//   h0 = E[ids] (hiddenStates[0]); h1 = tanh(h0·W1ᵀ + b1) (hiddenStates[1], "layer 0"); logits = h1·Hᵀ + c.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs-core';
import type { CausalLM, ForwardInput, ForwardOptions, ForwardOutput, ParamMap, TokenBatch } from '@unlearn/core';
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
  readonly params: ParamMap;

  constructor(weights: Map<string, tf.Tensor> | Record<string, FixtureTensor>, trainable = true) {
    this.params = new Map<string, Variable>();
    const entries: [string, tf.Tensor | FixtureTensor][] = weights instanceof Map ? [...weights] : Object.entries(weights);
    for (const [name, w] of entries) {
      const t = w instanceof tf.Tensor ? tf.clone(w) : tf.tensor(w.data, w.shape, 'float32');
      this.params.set(name, tf.variable(t, trainable));
      t.dispose();
    }
    const [vocab, hidden] = this.params.get('model.embed_tokens.weight')!.shape;
    this.config = { model_type: 'toy', vocab_size: vocab, hidden_size: hidden, num_hidden_layers: 1 };
  }

  forward(input: ForwardInput, options: ForwardOptions = {}): ForwardOutput {
    return tf.tidy(() => {
      const p = (n: string) => this.params.get(n)!;
      const h0 = tf.gather(p('model.embed_tokens.weight'), input.inputIds) as Tensor3D;
      const h1 = tf.tanh(linear(h0, p('model.layers.0.mlp.weight'), p('model.layers.0.mlp.bias'))) as Tensor3D;
      const logits = linear(h1, p('lm_head.weight'), p('lm_head.bias')) as Tensor3D;
      return options.hiddenStates ? { logits, hiddenStates: [h0, h1] } : { logits };
    });
  }

  frozenCopy(): CausalLM {
    return new ToyLM(new Map([...this.params].map(([n, v]) => [n, v as tf.Tensor])), false);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

export function fixtureBatch(t: FixtureTokens): TokenBatch {
  return {
    inputIds: tf.tensor2d(t.inputIds, undefined, 'int32') as Tensor2D,
    attentionMask: tf.tensor2d(t.attentionMask, undefined, 'int32') as Tensor2D,
    labels: tf.tensor2d(t.labels, undefined, 'int32') as Tensor2D,
  };
}

export function disposeBatch(b: TokenBatch | undefined): void {
  if (b) tf.dispose([b.inputIds, b.attentionMask, b.labels]);
}

export function disposeBatches(batches: TokenBatch[]): void {
  for (const b of batches) disposeBatch(b);
}

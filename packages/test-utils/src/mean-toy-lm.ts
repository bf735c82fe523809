// The causal-mean toy LM (Trainer, curvature probe and optimizer goldens), which TensorFlow.js and PyTorch run identically:
//   e_t = E[x_t];  c_t = mean(e_1..e_t) (causal mixing);  h_t = tanh(W1·c_t + b1);  logits_t = H·h_t
// Parameter names follow Hugging Face conventions; `model.layers.0.mlp.bias` is rank 1 (no AdamW decay).
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { linear } from '@unlearn/tensors';
import type { CausalLM, ForwardInput, ForwardOutput, Objective, ParamMap, TokenBatch, UnlearnBatch } from '@unlearn/core';
import { IGNORE_INDEX } from '@unlearn/core';

export interface ToyWeights {
  'model.embed_tokens.weight': number[][];
  'model.layers.0.mlp.weight': number[][];
  'model.layers.0.mlp.bias': number[];
  'lm_head.weight': number[][];
}

let instances = 0;

export function createToyLM(weights: ToyWeights, trainable = true): CausalLM {
  const id = instances++;
  const params: ParamMap = new Map();
  for (const [name, value] of Object.entries(weights)) {
    const init = tf.tensor(value as number[]);
    params.set(name, tf.variable(init, trainable, `toy${id}/${name}`));
    init.dispose(); // the variable holds its own reference to the data
  }
  const vocab = weights['lm_head.weight'].length;
  const hidden = weights['lm_head.weight'][0].length;
  const model: CausalLM = {
    config: { model_type: 'toy', vocab_size: vocab, hidden_size: hidden, num_hidden_layers: 1 },
    params,
    forward(input: ForwardInput): ForwardOutput {
      return tf.tidy(() => {
        const [b, s] = input.inputIds.shape;
        const p = (n: string) => params.get(n)! as Tensor;
        const e = tf.reshape(tf.gather(p('model.embed_tokens.weight'), tf.reshape(input.inputIds, [-1])), [b, s, hidden]);
        // causal mean: c_t = (1/t) Σ_{j≤t} e_j, as a constant lower-triangular averaging matrix
        const avg = tf.tensor2d(Array.from({ length: s }, (_, t) => Array.from({ length: s }, (_, j) => (j <= t ? 1 / (t + 1) : 0))));
        const c = tf.reshape(tf.transpose(tf.reshape(tf.matMul(avg, tf.reshape(tf.transpose(e, [1, 0, 2]), [s, b * hidden])), [s, b, hidden]), [1, 0, 2]), [b * s, hidden]);
        const h = tf.tanh(linear(c, p('model.layers.0.mlp.weight'), p('model.layers.0.mlp.bias')));
        const logits = linear(h, p('lm_head.weight'));
        return { logits: tf.reshape(logits, [b, s, vocab]) as Tensor3D };
      });
    },
    frozenCopy() {
      const copy = {} as Record<string, unknown>;
      for (const [name, v] of params) copy[name] = v.arraySync();
      return createToyLM(copy as unknown as ToyWeights, false);
    },
    dispose() {
      for (const v of params.values()) v.dispose();
    },
  };
  return model;
}

/** Deterministic pseudo-random weights (no tfjs RNG involved). */
export function toyWeights(vocab: number, hidden: number, seed = 1, scale = 0.5): ToyWeights {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * 2 * scale;
  };
  const mat = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, rand));
  return {
    'model.embed_tokens.weight': mat(vocab, hidden),
    'model.layers.0.mlp.weight': mat(hidden, hidden),
    'model.layers.0.mlp.bias': Array.from({ length: hidden }, rand),
    'lm_head.weight': mat(vocab, hidden),
  };
}

export function tokenBatch(inputIds: number[][], labels?: number[][]): TokenBatch {
  return {
    inputIds: tf.tensor2d(inputIds, undefined, 'int32'),
    attentionMask: tf.tensor2d(inputIds.map((r) => r.map(() => 1)), undefined, 'int32'),
    labels: tf.tensor2d(labels ?? inputIds, undefined, 'int32'),
  };
}

export function disposeUnlearnBatch(b: UnlearnBatch): void {
  for (const p of [b.forget, b.retain, b.alternate]) if (p) tf.dispose([p.inputIds, p.attentionMask, p.labels]);
}

/** Mean next-token NLL over loss-bearing tokens, with ordinary tfjs ops (independent of the probe's custom op). */
export function meanNll(model: CausalLM, batch: TokenBatch): Scalar {
  return tf.tidy(() => {
    const { logits } = model.forward(batch);
    const [b, s, v] = logits.shape;
    const lp = tf.logSoftmax(tf.reshape(tf.slice(logits, [0, 0, 0], [b, s - 1, v]), [b * (s - 1), v]));
    const y = tf.reshape(tf.slice(batch.labels, [0, 1], [b, s - 1]), [-1]);
    const w = tf.cast(tf.notEqual(y, IGNORE_INDEX), 'float32');
    const ySafe = tf.where(tf.greaterEqual(y, 0), y, tf.zerosLike(y));
    const picked = tf.sum(tf.mul(lp, tf.oneHot(ySafe, v)), 1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, w))), tf.sum(w)) as Scalar;
  });
}

/** Gradient ascent on the forget NLL: loss = −NLL(f). */
export const toyGA: Objective = { name: 'toy-ga', specificationVersion: 'v1', needs: {}, loss: (m, b) => tf.neg(meanNll(m, b.forget)) };

/** GradDiff: loss = −γ·NLL(f) + α·NLL(r), parts reported. */
export function toyGradDiff(gamma = 1, alpha = 1): Objective {
  return {
    name: 'toy-graddiff',
    specificationVersion: 'v1',
    needs: { retain: true },
    loss: (m, b) => {
      const forget = meanNll(m, b.forget);
      const retain = meanNll(m, b.retain!);
      return { loss: tf.tidy(() => tf.add(tf.mul(forget, -gamma), tf.mul(retain, alpha))) as Scalar, parts: { forget, retain } };
    },
  };
}

// RMU, Representation Misdirection for Unlearning (Li et al. 2024, "The WMDP Benchmark", §5.2, Eqs. 1–2):
//   L_forget = E_forget[ mean_t ‖h_θ^(l)(t) − c·u‖² ]          (push forget activations towards a random direction)
//   L_retain = E_retain[ mean_t ‖h_θ^(l)(t) − h_ref^(l)(t)‖² ]  (keep retain activations where they were)
//   L = γ·L_forget + α·L_retain
// h^(l) is the output of decoder layer l (hiddenStates[l + 1]); u is a fixed random unit vector (uniform [0,1)
// entries normalised, as wmdp's rmu/unlearn.py draws it), seeded here; c is the steering coefficient. As in the
// reference code (mse_loss), ‖·‖² is averaged over the hidden dimension; tokens are averaged per sequence over the
// mask, then over the batch (open-unlearning's compute_activation_loss). Defaults: wmdp's argparse (layer 7, c = 20,
// α = 100). The paper updates only the MLPs of layers l−2..l: pair it with a mask for that.
import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { IGNORE_INDEX, parseOptions, type CausalLM, type Objective, type TokenBatch } from '@unlearn/core';
import { mulberry32 } from '@unlearn/random';
import { defineObjective } from './define-objective.js';
import { detach } from './detach.js';

export const rmuOptions = z
  .object({
    /** Decoder layer whose output is steered (0-based, HF `model.layers.{layer}`); default min(7, numLayers − 1). */
    layer: z.number().int().nonnegative().optional(),
    /** c: norm of the control vector c·u. */
    steeringCoeff: z.number().finite().positive().default(20),
    /** γ */
    forgetWeight: z.number().finite().nonnegative().default(1),
    /** α: weight of the retain activation-matching term; 0 drops it. */
    retainWeight: z.number().finite().nonnegative().default(100),
    /** Seed of the random direction u. */
    seed: z.number().int().default(0),
    /** An explicit direction instead of the seeded one (normalised here); its length must be the hidden size. */
    direction: z.array(z.number().finite()).min(1).optional(),
    /** Which tokens count: real tokens (attention mask, default) or only labelled ones (labels ≠ IGNORE_INDEX, open-unlearning). */
    tokens: z.enum(['attention', 'labels']).default('attention'),
  })
  .strict();
export type RmuOptions = z.input<typeof rmuOptions>;

/** The unit direction u of RMU for hidden size `size`: seeded uniform [0,1) entries, normalised (or `direction`, normalised). */
export function rmuDirection(size: number, seed = 0, direction?: readonly number[]): Float32Array {
  const raw = direction ? Float64Array.from(direction) : Float64Array.from({ length: size }, mulberry32(seed));
  if (raw.length !== size) throw new Error(`rmu: direction has ${raw.length} entries but the hidden size is ${size}`);
  const norm = Math.hypot(...raw);
  if (!(norm > 0)) throw new Error('rmu: direction has zero norm');
  return Float32Array.from(raw, (x) => x / norm);
}

function layerActivations(model: CausalLM, batch: TokenBatch, layer: number, who: string): Tensor3D {
  const out = model.forward(batch, { hiddenStates: true });
  const hs = out.hiddenStates;
  if (!hs || hs.length === 0) throw new Error(`rmu needs hidden states: ${who}.forward(..., { hiddenStates: true }) returned none`);
  if (layer + 1 >= hs.length) {
    throw new Error(`rmu: layer ${layer} does not exist: ${who} returned hidden states for ${hs.length - 1} layers (0..${hs.length - 2})`);
  }
  return hs[layer + 1];
}

/** mean over batch of (per-sequence mean over masked tokens of mean_d (a − b)²). */
function activationLoss(a: Tensor3D, b: tf.Tensor, tokenMask: Tensor2D): Scalar {
  return tf.tidy(() => {
    const perToken = tf.mean(tf.squaredDifference(a, b), 2); // [batch, seq]
    const perSequence = tf.div(tf.sum(tf.mul(perToken, tokenMask), 1), tf.maximum(tf.sum(tokenMask, 1), 1));
    return tf.mean(perSequence) as Scalar;
  });
}

export function rmu(options: RmuOptions = {}): Objective {
  const o = parseOptions('rmu', rmuOptions, options);
  const directions = new Map<number, Float32Array>();
  const tokenMask = (batch: TokenBatch): Tensor2D =>
    tf.tidy(() =>
      o.tokens === 'attention'
        ? (tf.cast(batch.attentionMask, 'float32') as Tensor2D)
        : (tf.cast(tf.notEqual(batch.labels, tf.scalar(IGNORE_INDEX, batch.labels.dtype)), 'float32') as Tensor2D),
    );
  const layerOf = (model: CausalLM) => o.layer ?? Math.max(0, Math.min(7, model.config.num_hidden_layers - 1));

  return defineObjective({
    name: 'rmu',
    needs: { hiddenStates: true, ...(o.retainWeight > 0 ? { reference: true } : {}) },
    forget: (model, { batch }) =>
      tf.tidy(() => {
        const h = layerActivations(model, batch.forget, layerOf(model), 'the model');
        const d = h.shape[2];
        if (!directions.has(d)) directions.set(d, rmuDirection(d, o.seed, o.direction));
        const control = tf.mul(tf.tensor1d(directions.get(d)!), o.steeringCoeff);
        return activationLoss(h, control, tokenMask(batch.forget));
      }),
    forgetWeight: o.forgetWeight,
    retainWeight: o.retainWeight,
    forgetCurvature: { none: 'RMU scores distances between hidden states, not token probabilities: Gauss-Newton of a cross-entropy does not apply' },
    retain: (model, { batch, reference }) =>
      tf.tidy(() => {
        const layer = layerOf(model);
        const h = layerActivations(model, batch.retain!, layer, 'the model');
        const hRef = detach(layerActivations(reference!, batch.retain!, layer, 'the reference model'));
        return activationLoss(h, hRef, tokenMask(batch.retain!));
      }),
  });
}

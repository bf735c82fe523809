// tfjs has no stopGradient: an identity whose gradient is zero makes a tensor a constant for the tape.
// Used on everything computed from the reference model, so no gradient can reach it even when its variables
// are trainable (e.g. a user passes the live model as its own reference).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

const identityWithZeroGrad = tf.customGrad(((x: Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: Tensor) => tf.zerosLike(dy),
})) as unknown as (...args: (Tensor | tf.GradSaveFunc)[]) => { value: Tensor; gradFunc: (dy: Tensor) => Tensor });

/** `x` as a constant: same value, zero gradient. */
export function detach<T extends Tensor>(x: T): T {
  return identityWithZeroGrad(x) as T;
}

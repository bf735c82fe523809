// log σ(x) = −softplus(−x), with d/dx = σ(−x). tfjs's own tf.logSigmoid is a customGrad whose gradient closes over
// its input instead of saving it, so when the input was made inside a tf.tidy (as in every loss here) the backward
// pass reads a disposed tensor. This one saves its input for the backward pass.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

const logSigmoidOp = tf.customGrad(((x: Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.neg(tf.softplus(tf.neg(x))),
    gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(dy, tf.sigmoid(tf.neg(saved[0]))),
  };
}) as unknown as (...args: (Tensor | tf.GradSaveFunc)[]) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor });

/** Elementwise log σ(x), numerically stable, differentiable even when `x` came from a disposed scope. */
export function logSigmoid<T extends Tensor>(x: T): T {
  return logSigmoidOp(x) as T;
}

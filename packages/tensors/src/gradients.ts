// Gradients transformer training needs that tfjs 4.22 lacks on some backends.
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

let registered = false;

/**
 * GatherV2 (embedding lookup): tfjs's gradient calls the UnsortedSegmentSum kernel, which the wasm backend lacks.
 * For the common case (axis 0, no batch dims) scatter the upstream gradient with ScatterNd, which every backend has
 * and which sums duplicate indices — exactly d table[i] = Σ_{t: ids[t]=i} dy[t].
 */
function gatherGradViaScatter(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, indices] = saved as [Tensor, Tensor];
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      const parsedAxis = axis < 0 ? axis + x.rank : axis;
      if (parsedAxis !== 0 || (batchDims ?? 0) !== 0) {
        if (!original) throw new Error(`GatherV2 gradient: axis ${axis} with batchDims ${batchDims} is not supported`);
        return original.gradFunc(dy, saved, attrs);
      }
      return {
        x: () => {
          const dyT = dy as Tensor;
          const flatIdx = tf.reshape(indices, [indices.size, 1]);
          const rowShape = x.shape.slice(1);
          const flatDy = tf.reshape(dyT, [indices.size, ...rowShape]);
          return tf.scatterND(flatIdx, flatDy, x.shape);
        },
        indices: () => tf.zerosLike(indices),
      };
    },
  };
}

export function registerMissingGradients(): void {
  if (registered) return;
  registered = true;
  const original = tf.getGradient('GatherV2');
  tf.unregisterGradient('GatherV2');
  tf.registerGradient(gatherGradViaScatter(original));
}

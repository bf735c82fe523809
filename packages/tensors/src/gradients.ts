// Gradients transformer training needs that tfjs 4.22 lacks, registered once by ./setup.ts.
//  - GatherV2 (embedding lookup, any axis): tfjs's own gradient calls UnsortedSegmentSum, which wasm lacks.
//  - GatherNd (picking label log-probs): tfjs registers no gradient at all.
//  - ScatterNd: gradient w.r.t. the updates.
//  - Comparison / logical ops and Multinomial: zero gradients, so `tf.where(tf.greater(x, 0), ..)` or sampling
//    from the model's own logits inside tf.grad no longer throws "gradient function not found for Greater".
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

let registered = false;

/**
 * d x for `gather(x, indices, axis)` (batchDims 0): scatter the upstream gradient with ScatterNd, which every backend
 * has and which sums duplicate indices — d x[.., i, ..] = Σ_{t: indices[t] = i} dy[.., t, ..].
 * For axis > 0 the gathered axis is moved to the front, scattered, and moved back.
 */
function gatherGradViaScatter(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, indices] = saved as [Tensor, Tensor];
      const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
      const ax = axis < 0 ? axis + x.rank : axis;
      if ((batchDims ?? 0) !== 0) {
        if (!original) throw new Error(`GatherV2 gradient: batchDims ${batchDims} is not supported`);
        return original.gradFunc(dy, saved, attrs);
      }
      return {
        x: () => {
          const g = dy as Tensor;
          const outer = x.shape.slice(0, ax);
          const inner = x.shape.slice(ax + 1);
          const idxRank = indices.rank;
          // dy: [...outer, ...indices.shape, ...inner] → [...indices.shape, ...outer, ...inner]
          const perm = [
            ...Array.from({ length: idxRank }, (_, i) => ax + i),
            ...Array.from({ length: ax }, (_, i) => i),
            ...Array.from({ length: inner.length }, (_, i) => ax + idxRank + i),
          ];
          const moved = ax === 0 ? g : tf.transpose(g, perm);
          const rows = tf.reshape(moved, [indices.size, ...outer, ...inner]);
          const flatIdx = tf.reshape(indices, [indices.size, 1]);
          const scattered = tf.scatterND(flatIdx, rows, [x.shape[ax], ...outer, ...inner]);
          if (ax === 0) return scattered;
          // [axisLen, ...outer, ...inner] → [...outer, axisLen, ...inner]
          const back = [...Array.from({ length: ax }, (_, i) => i + 1), 0, ...Array.from({ length: inner.length }, (_, i) => ax + 1 + i)];
          return tf.transpose(scattered, back);
        },
        indices: () => tf.zerosLike(indices),
      };
    },
  };
}

/** d x for `gatherND(x, indices)`: scatterND sums the upstream gradient back into the gathered slices. */
const gatherNdGrad: GradConfig = {
  kernelName: 'GatherNd',
  inputsToSave: ['params', 'indices'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [params, indices] = saved as [Tensor, Tensor];
    return {
      params: () => tf.scatterND(indices, dy as Tensor, params.shape),
      indices: () => tf.zerosLike(indices),
    };
  },
};

/** d updates for `scatterND(indices, updates, shape)`: each update received dy at its index. */
const scatterNdGrad: GradConfig = {
  kernelName: 'ScatterNd',
  inputsToSave: ['indices'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [indices] = saved as [Tensor];
    return {
      updates: () => tf.gatherND(dy as Tensor, indices),
      indices: () => tf.zerosLike(indices),
    };
  },
};

/** Piecewise-constant ops: the gradient w.r.t. every input is zero. */
function zeroGrad(kernelName: string, inputs: string[]): GradConfig {
  return {
    kernelName,
    inputsToSave: inputs,
    gradFunc: (_dy: Tensor | Tensor[], saved: Tensor[]) =>
      Object.fromEntries(inputs.map((name, i) => [name, () => tf.zerosLike(saved[i])])),
  };
}

const ZERO_GRADIENTS: [string, string[]][] = [
  ['Greater', ['a', 'b']],
  ['Less', ['a', 'b']],
  ['LessEqual', ['a', 'b']],
  ['Equal', ['a', 'b']],
  ['NotEqual', ['a', 'b']],
  ['LogicalAnd', ['a', 'b']],
  ['LogicalOr', ['a', 'b']],
  ['LogicalXor', ['a', 'b']],
  ['LogicalNot', ['x']],
  ['Multinomial', ['logits']],
];

/** Registers the gradients above. Idempotent; never replaces a gradient tfjs already has, except GatherV2's. */
export function registerMissingGradients(): void {
  if (registered) return;
  registered = true;
  const original = tf.getGradient('GatherV2');
  if (original) tf.unregisterGradient('GatherV2');
  tf.registerGradient(gatherGradViaScatter(original));
  const missing = [gatherNdGrad, scatterNdGrad, ...ZERO_GRADIENTS.map(([k, inputs]) => zeroGrad(k, inputs))];
  for (const g of missing) if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
}

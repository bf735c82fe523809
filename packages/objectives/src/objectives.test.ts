// Every objective's loss, parts and gradient against PyTorch (test/fixtures/make_objectives.py, float64) on a toy
// LM with padding, -100 prompt masking, a reference model, retain and alternate batches.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { get, list } from '@unlearn/core';
import type { UnlearnBatch } from '@unlearn/core';
import { describe, expect, it } from 'vitest';
import './index.js';
import { useLeakCheckedBackend } from '@unlearn/test-utils';
import { ToyLM, disposeBatch, fixtureBatch as tokenBatch } from '@unlearn/test-utils';
import type { FixtureTensor, FixtureTokens } from '@unlearn/test-utils';

interface Case {
  name: string;
  objective: string;
  options: Record<string, unknown>;
  loss: number;
  parts: Record<string, number>;
  grads: Record<string, number[]>;
}
const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(here, '../test/fixtures/objectives.json'), 'utf8')) as {
  model: Record<string, FixtureTensor>;
  reference: Record<string, FixtureTensor>;
  batches: Record<'forget' | 'retain' | 'alternate', FixtureTokens>;
  cases: Case[];
};

/** |actual − expected| ≤ 1e-5·max(1, |expected|): float32 against float64. */
function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = 1e-5 * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}[${i}]: got ${actual[i]}, PyTorch says ${expected[i]} (tolerance ${tol.toExponential(1)})`);
    }
  }
}

useLeakCheckedBackend();

function fullBatch(): UnlearnBatch {
  return {
    forget: tokenBatch(fixture.batches.forget),
    retain: tokenBatch(fixture.batches.retain),
    alternate: tokenBatch(fixture.batches.alternate),
  };
}
function disposeAll(batch: UnlearnBatch, ...models: { dispose(): void }[]): void {
  disposeBatch(batch.forget);
  disposeBatch(batch.retain);
  disposeBatch(batch.alternate);
  for (const m of models) m.dispose();
}

describe('objectives against PyTorch', () => {
  it('covers every registered objective', () => {
    expect(list('objective')).toEqual(expect.arrayContaining(['ga', 'graddiff', 'kl', 'npo', 'simnpo', 'idk', 'idkdpo', 'rmu']));
    const covered = new Set(fixture.cases.map((c) => c.objective));
    for (const name of ['ga', 'graddiff', 'kl', 'npo', 'simnpo', 'idk', 'idkdpo', 'rmu']) expect(covered.has(name), name).toBe(true);
  });

  it.each(fixture.cases)('$name: loss, parts and gradient (reference variables trainable yet untouched)', async (c) => {
    const model = new ToyLM(fixture.model);
    // A reference whose variables ARE trainable: only `detach` keeps gradient away from it.
    const reference = new ToyLM(fixture.reference, true);
    const batch = fullBatch();
    const objective = get('objective', c.objective)(c.options);
    const parts: Record<string, tf.Scalar> = {};
    const modelVars = [...model.params.values()];
    const refVars = [...reference.params.values()];
    const { value, grads } = tf.variableGrads(() => {
      const out = objective.loss(model, batch, { reference, step: 0 });
      const { loss, parts: p } = out instanceof tf.Tensor ? { loss: out, parts: {} } : out;
      for (const [k, v] of Object.entries(p ?? {})) parts[k] = tf.keep(v);
      return loss;
    }, [...modelVars, ...refVars]);

    // async reads only (dataSync is unavailable on webgpu in Node): UNLEARN_TEST_BACKEND=webgpu runs this too
    expectClose(await value.data(), [c.loss], 'loss');
    expect(Object.keys(parts).sort()).toEqual(Object.keys(c.parts).sort());
    for (const [k, v] of Object.entries(c.parts)) expectClose(await parts[k].data(), [v], `parts.${k}`);
    for (const [name, variable] of model.params) {
      const g = grads[variable.name];
      const got = g ? await g.data() : new Float32Array(variable.size); // no gradient path = 0 (RMU's head)
      expectClose(got, c.grads[name], `∂loss/∂${name}`);
    }
    for (const v of refVars) {
      const g = grads[v.name];
      if (g) expect(Math.max(...Array.from(await g.data(), Math.abs)), `gradient into reference ${v.name}`).toBe(0);
    }
    tf.dispose([value, ...Object.values(grads), ...Object.values(parts)]);
    disposeAll(batch, model, reference);
  });

  it('a frozenCopy reference gets no gradient and gives the same loss as a fresh reference', async () => {
    const model = new ToyLM(fixture.model);
    const reference = model.frozenCopy();
    const batch = fullBatch();
    const objective = get('objective', 'npo')({});
    const { value, grads } = tf.variableGrads(() => (objective.loss(model, batch, { reference, step: 0 }) as { loss: tf.Scalar }).loss, [
      ...model.params.values(),
      ...reference.params.values(),
    ]);
    // Same weights ⇒ log-ratio 0 ⇒ NPO forget term = −(2/β)·log σ(0) = (2/β)·ln 2; plus retain NLL.
    const retainNll = JSON.parse(readFileSync(path.join(here, '../test/fixtures/objectives.json'), 'utf8')).nll.retain as number;
    expectClose(await value.data(), [(2 / 0.1) * Math.LN2 + retainNll], 'npo loss at the reference');
    for (const v of reference.params.values()) expect(grads[v.name]).toBeNull();
    tf.dispose([value, ...Object.values(grads).filter((g): g is tf.Tensor => g != null)]);
    disposeAll(batch, model, reference);
  });

  it('loss() outside any tidy leaves only the loss and its parts to dispose', () => {
    const model = new ToyLM(fixture.model);
    const reference = model.frozenCopy();
    const batch = fullBatch();
    const start = tf.memory().numTensors;
    for (const name of ['ga', 'graddiff', 'kl', 'npo', 'simnpo', 'idk', 'idkdpo', 'rmu']) {
      const out = get('objective', name)(name === 'rmu' ? { layer: 0 } : {}).loss(model, batch, { reference, step: 0 });
      const { loss, parts } = out as { loss: tf.Scalar; parts: Record<string, tf.Scalar> };
      tf.dispose([loss, ...Object.values(parts)]);
      expect(tf.memory().numTensors, name).toBe(start);
    }
    disposeAll(batch, model, reference);
  });
});

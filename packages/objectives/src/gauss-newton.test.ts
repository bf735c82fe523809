// Objective-aware curvature: for every objective, the mean over many seeds of Sophia's GNB estimate ĝ⊙ĝ, with
// ĝ = ∇ objective.curvature.sampledLoss(seed), equals the exact Gauss-Newton diagonal of THAT objective computed in
// float64 by test/fixtures/make_gauss_newton.py (outer weights from autograd, Jacobians from torch), within Monte-Carlo
// tolerance; and differs from what a probe that ignores the objective would estimate where the two should differ.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { get } from '@unlearn/core';
import type { Objective, UnlearnBatch } from '@unlearn/core';
import { describe, expect, it } from 'vitest';
import './index.js';
import { ToyLM, disposeBatch, fixtureBatch as tokenBatch, useLeakCheckedBackend } from '@unlearn/test-utils';
import type { FixtureTensor, FixtureTokens } from '@unlearn/test-utils';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(here, '../test/fixtures/objectives.json'), 'utf8')) as {
  model: Record<string, FixtureTensor>;
  reference: Record<string, FixtureTensor>;
  batches: Record<'forget' | 'retain' | 'alternate', FixtureTokens>;
};
const gn = JSON.parse(readFileSync(path.join(here, '../test/fixtures/gauss-newton.json'), 'utf8')) as {
  names: string[];
  legacy: number[];
  cases: { name: string; objective: string; options: Record<string, unknown>; diagonal: number[] }[];
};

const SAMPLES = Number(process.env.GN_SAMPLES ?? 100);

useLeakCheckedBackend();

interface Estimate {
  /** Per parameter tensor: mean and standard error of Σ ĝ⊙ĝ over its entries (from the per-seed sums). */
  groups: { mean: number; se: number; from: number; to: number }[];
}

/** ĝ⊙ĝ over `SAMPLES` seeds, ĝ = ∇ objective.curvature.sampledLoss(seed). */
function monteCarlo(objective: Objective): Estimate {
  const model = new ToyLM(fixture.model);
  const reference = new ToyLM(fixture.reference, false);
  const batch: UnlearnBatch = { forget: tokenBatch(fixture.batches.forget), retain: tokenBatch(fixture.batches.retain), alternate: tokenBatch(fixture.batches.alternate) };
  const curvature = objective.curvature;
  if (curvature?.kind !== 'gauss-newton') throw new Error(`${objective.name}: no Gauss-Newton curvature`);
  const vars = gn.names.map((n) => model.params.get(n)!);
  const gSum = new Float64Array(vars.length);
  const gSumSq = new Float64Array(vars.length);
  for (let s = 0; s < SAMPLES; s++) {
    const { value, grads } = tf.variableGrads(() => curvature.sampledLoss(model, batch, { step: 0, reference }, 1000 + 7 * s), vars);
    value.dispose();
    vars.forEach((v, k) => {
      const g = grads[v.name].dataSync();
      let total = 0;
      for (let i = 0; i < g.length; i++) {
        total += g[i] * g[i];
      }
      gSum[k] += total;
      gSumSq[k] += total * total;
    });
    tf.dispose(Object.values(grads));
  }
  for (const part of [batch.forget, batch.retain, batch.alternate]) disposeBatch(part);
  model.dispose();
  reference.dispose();
  const stats = (s1: number, s2: number) => ({ mean: s1 / SAMPLES, se: Math.sqrt(Math.max(s2 / SAMPLES - (s1 / SAMPLES) ** 2, 0) / SAMPLES) });
  let from = 0;
  const groups = vars.map((v, k) => ({ ...stats(gSum[k], gSumSq[k]), from, to: (from += v.size) }));
  return { groups };
}

describe("GNB on the objective's own curvature vs the exact Gauss-Newton diagonal (PyTorch, float64)", () => {
  // a subset of the fixture's cases keeps the file to seconds: every objective once, the KL retain term, no-retain DPO
  const TESTED = ['ga', 'graddiff', 'graddiff weighted, KL retain', 'kl', 'npo beta 1, KL retain', 'simnpo', 'idk', 'idkdpo beta 0.5, no retain'];
  for (const c of gn.cases.filter((x) => TESTED.includes(x.name))) {
    it(`${c.name}: E[ĝ⊙ĝ] over ${SAMPLES} seeds equals diag(Σ_t |c_t| J_tᵀ(diag p − ppᵀ)J_t)`, () => {
      const objective = get('objective', c.objective)(c.options);
      const { groups } = monteCarlo(objective);
      const exact = c.diagonal;
      // each parameter tensor's total within 5 standard errors of its Monte-Carlo mean
      groups.forEach((g, k) => {
        const want = exact.slice(g.from, g.to).reduce((a, b) => a + b, 0);
        expect(Math.abs(g.mean - want), `${c.name}: ${gn.names[k]}: Σ ĝ⊙ĝ ${g.mean} ± ${g.se}, exact ${want}`).toBeLessThanOrEqual(5 * g.se + 1e-6 * Math.max(1, want));
      });
      // (per entry ĝ⊙ĝ is too heavy-tailed for a few hundred draws: a rarely sampled token carries the mean)
      const total = groups.reduce((a, g) => a + g.mean, 0);
      const want = exact.reduce((a, b) => a + b, 0);
      expect(Math.abs(total - want) / want, `${c.name}: total ${total} vs ${want}`).toBeLessThan(0.15);
    });
  }

  it('the estimate can tell objectives apart: NPO and IdkDPO are far from the objective-blind (1/B)·CE estimate', () => {
    const legacy = gn.legacy.reduce((a, b) => a + b, 0);
    for (const name of ['npo', 'idkdpo', 'idk', 'graddiff']) {
      const exact = gn.cases.find((c) => c.name === name)!.diagonal.reduce((a, b) => a + b, 0);
      expect(Math.abs(exact - legacy) / legacy, name).toBeGreaterThan(0.5);
    }
  });

  it('RMU declares that Gauss-Newton does not apply, with a reason; objectives built without curvature declare nothing', () => {
    const rmu = get('objective', 'rmu')({});
    expect(rmu.curvature).toEqual({ kind: 'none', reason: expect.stringMatching(/hidden states/) });
    for (const name of ['ga', 'graddiff', 'kl', 'npo', 'simnpo', 'idk', 'idkdpo']) expect(get('objective', name)({}).curvature?.kind, name).toBe('gauss-newton');
  });
});

// The metrics beyond TOFU's defaults on the real stories260K Llama, against scripts/extra_metrics_reference.py (an
// independent float64 torch re-typing of open-unlearning, torch autograd, sklearn; fixtures/extra-metrics-reference.json):
// mia_gradnorm, MUSE verbmem / knowmem ROUGE and privleak on texts, multiple-choice accuracy; plus mia_reference,
// truth ratio's prob_mean and rel_diff checked by hand.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadTofuSplit, type QaRow } from '@unlearn/data';
import { createModel, loadModel, loadTokenizer, type HFTokenizer, type TransformerLM } from '@unlearn/models';
import { initBackend } from '@unlearn/tensors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateMetrics, relDiff, rocAuc, truthRatioProbMean, type EvaluateMetricsResult } from '../src/index.js';

const shared = path.resolve(import.meta.dirname, '../../../../shared');
const modelDir = path.join(shared, 'models/stories260K');
const g = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures/extra-metrics-reference.json'), 'utf8'));
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const items = (r: EvaluateMetricsResult, name: string, key = 'score') =>
  Object.values(r.metrics[name].value_by_index!).map((v) => v[key]);
const scores = (r: EvaluateMetricsResult, name: string, side: 'forget' | 'holdout') =>
  Object.values((r.metrics[name][side] as { value_by_index: Record<string, { score: number }> }).value_by_index).map((v) => v.score);

let model: TransformerLM;
let tokenizer: HFTokenizer;
let forget: QaRow[];
let holdout: QaRow[];
let result: EvaluateMetricsResult;
let before: number;

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadModel(modelDir, { trainable: false });
  tokenizer = await loadTokenizer(modelDir);
  const tofu = path.join(shared, 'data/tofu');
  forget = ((await loadTofuSplit(tofu, 'forget10')) as QaRow[]).slice(0, 3);
  holdout = ((await loadTofuSplit(tofu, 'holdout10')) as QaRow[]).slice(0, 3);
  before = tf.memory().numTensors;
  result = await evaluateMetrics(
    ['mia_gradnorm', 'forget_verbmem_ROUGE', 'forget_knowmem_ROUGE', 'muse_privleak', 'mc_accuracy'], model, tokenizer,
    {
      forget, holdout, verbmem: g.verbmem.data, forgetKnowmem: g.knowmem.data, forgetKnowmemIcl: g.knowmem.icl,
      museForget: g.privleak_texts.forget.map((text: string) => ({ text })), museHoldout: g.privleak_texts.holdout.map((text: string) => ({ text })),
      multipleChoice: g.multiple_choice.data,
    },
    { template: { boundary: 'open-unlearning' }, onWarning: () => {} },
  );
}, 120_000);
afterAll(() => model?.dispose());

describe('extra metrics vs the Python reference (stories260K)', () => {
  it('leaks no tensors and leaves the parameters non-trainable', () => {
    expect(tf.memory().numTensors).toBe(before);
    expect([...model.params.values()].every((v) => !v.trainable)).toBe(true);
  });

  it('mia_gradnorm: per-sample mean L2 gradient norm to 1e-4 relative, and its AUC', () => {
    for (const side of ['forget', 'holdout'] as const) {
      scores(result, 'mia_gradnorm', side).forEach((s, i) => expect(rel(s, g.mia_gradnorm[side][i]), `${side} ${i}`).toBeLessThan(1e-4));
    }
    expect(result.metrics.mia_gradnorm.agg_value).toBe(g.mia_gradnorm.auc);
  });

  it('forget_verbmem_ROUGE: the same 128-token continuation and ROUGE-L F1', () => {
    g.verbmem.forget_verbmem_ROUGE.forEach((want: Record<string, unknown>, i: number) => {
      const ours = result.metrics.forget_verbmem_ROUGE.value_by_index![String(i)];
      for (const k of ['generation', 'ground_truth', 'input', 'rougeL_f1', 'rouge1_recall', 'rougeL_recall']) expect(ours[k], `${k} ${i}`).toBe(want[k]);
    });
  });

  it('forget_knowmem_ROUGE: few-shot prompt, 32 tokens cut at the stopwords, ROUGE-L F1', () => {
    g.knowmem.forget_knowmem_ROUGE.forEach((want: Record<string, unknown>, i: number) => {
      const ours = result.metrics.forget_knowmem_ROUGE.value_by_index![String(i)];
      for (const k of ['generation', 'ground_truth', 'input', 'rougeL_f1']) expect(ours[k], `${k} ${i}`).toBe(want[k]);
    });
  });

  it('muse_privleak: Min-K% on whole texts to 1e-4 relative, AUC and privleak', () => {
    for (const side of ['forget', 'holdout'] as const) {
      scores(result, 'muse_mia_min_k', side).forEach((s, i) => expect(rel(s, g.privleak_texts.mia_min_k[side][i]), `${side} ${i}`).toBeLessThan(1e-4));
    }
    expect(result.metrics.muse_mia_min_k.agg_value).toBe(g.privleak_texts.auc);
    expect(result.metrics.muse_privleak.agg_value).toBeCloseTo(g.privleak_texts.privleak, 6);
  });

  it('mc_accuracy: option log-likelihoods to 1e-4 relative, acc and acc_norm', () => {
    const ll = items(result, 'mc_accuracy', 'loglik') as number[][];
    ll.forEach((l, i) => l.forEach((x, j) => expect(rel(x, g.multiple_choice.loglik[i][j]), `${i}.${j}`).toBeLessThan(1e-4)));
    expect(items(result, 'mc_accuracy', 'correct')).toEqual(g.multiple_choice.acc);
    expect(items(result, 'mc_accuracy', 'correct_norm')).toEqual(g.multiple_choice.acc_norm);
    expect(result.metrics.mc_accuracy.agg_value).toBe(g.multiple_choice.acc.reduce((s: number, x: number) => s + x, 0) / g.multiple_choice.acc.length);
  });

  it("mia_reference: target loss minus the reference model's, per item; needs a reference model", async () => {
    const reference = createModel({ ...model.config }, { seed: 3 });
    try {
      const b = tf.memory().numTensors;
      const r = await evaluateMetrics(['mia_reference', 'forget_Q_A_Prob'], model, tokenizer, { forget, holdout }, { referenceModel: reference, onWarning: () => {} });
      const ref = await evaluateMetrics(['forget_Q_A_Prob'], reference, tokenizer, { forget }, { onWarning: () => {} });
      const target = items(r, 'forget_Q_A_Prob', 'avg_loss') as number[];
      const refLoss = items(ref, 'forget_Q_A_Prob', 'avg_loss') as number[];
      scores(r, 'mia_reference', 'forget').forEach((s, i) => expect(s).toBeCloseTo(target[i] - refLoss[i], 10));
      const all = [...scores(r, 'mia_reference', 'forget'), ...scores(r, 'mia_reference', 'holdout')];
      expect(r.metrics.mia_reference.agg_value).toBe(rocAuc(all, [0, 0, 0, 1, 1, 1]));
      expect(tf.memory().numTensors).toBe(b);
      await expect(evaluateMetrics(['mia_reference'], model, tokenizer, { forget, holdout })).rejects.toThrow(/mia_reference: needs a reference model/);
    } finally {
      reference.dispose();
    }
  });

  it('prob_mean and rel_diff (hand-derived)', () => {
    // correct loss 1 → e^-1; wrong losses 1, 3 → mean 2 → e^-2: e^-1 / (e^-1 + e^-2) = 1 / (1 + e^-1)
    expect(truthRatioProbMean(1, [1, 3])).toBeCloseTo(1 / (1 + Math.exp(-1)), 9);
    expect(relDiff(0.3, 0.2)).toBeCloseTo(50, 6);
  });
});

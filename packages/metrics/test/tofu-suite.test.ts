// tofuSuite on the real stories260K Llama over a handful of real TOFU rows (the full forget10 run is
// scripts/tofu-stories260k.mjs). Checks the open-unlearning layout, internal consistency, batch-invariance against
// unbatched passes, forget quality / privleak with and without retain logs, and that no tensor leaks.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { collate, encodeQa, loadTofuSuiteData, plainTemplate, type TofuSuiteData } from '@unlearn/data';
import { generateTokens, loadModel, loadTokenizer, type TransformerLM } from '@unlearn/models';
import { initBackend } from '@unlearn/tensors';
import type { HFTokenizer } from '@unlearn/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerLogProbs, harmonicMean, tofuSuite, truthRatio, type TofuSuiteResult } from '../src/index.js';

const shared = path.resolve(import.meta.dirname, '../../../../shared');
const modelDir = path.join(shared, 'models/stories260K');
const tofuDir = path.join(shared, 'data/tofu');
const N = 3;

let model: TransformerLM;
let tokenizer: HFTokenizer;
let data: TofuSuiteData;
let tmp: string;
let first: TofuSuiteResult;
let tensorsBefore: number;
const warnings: string[] = [];

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadModel(modelDir, { trainable: false });
  tokenizer = await loadTokenizer(modelDir);
  data = await loadTofuSuiteData(tofuDir, { forget: 'forget10', limit: N });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'metrics-tofu-'));
  tensorsBefore = tf.memory().numTensors;
  first = await tofuSuite(model, tokenizer, data, {
    batchSize: 2, generationBatchSize: 2, maxNewTokens: 12, outputPath: path.join(tmp, 'retain-model.json'),
    onWarning: (m) => warnings.push(m),
  });
});

afterAll(async () => {
  model?.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('tofuSuite on stories260K × TOFU (3 rows per split)', () => {
  it('leaks no tensors', () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it("writes open-unlearning's keys with per-index values", async () => {
    const m = first.metrics;
    for (const key of [
      'forget_Q_A_Prob', 'forget_Q_A_PARA_Prob', 'forget_Q_A_PERT_Prob', 'forget_truth_ratio', 'forget_Q_A_ROUGE',
      'retain_Q_A_Prob', 'retain_Q_A_PARA_Prob', 'retain_Q_A_PERT_Prob', 'retain_Truth_Ratio', 'retain_Q_A_ROUGE',
      'ra_Q_A_Prob', 'ra_Q_A_PERT_Prob', 'ra_Q_A_Prob_normalised', 'ra_Truth_Ratio', 'ra_Q_A_ROUGE',
      'wf_Q_A_Prob', 'wf_Q_A_PERT_Prob', 'wf_Q_A_Prob_normalised', 'wf_Truth_Ratio', 'wf_Q_A_ROUGE',
      'extraction_strength', 'exact_memorization',
    ]) {
      expect(Object.keys(m[key].value_by_index!), key).toEqual(['0', '1', '2']);
      expect(Number.isFinite(m[key].agg_value), key).toBe(true);
    }
    expect((m.forget_Q_A_PERT_Prob.value_by_index!['0'].prob as number[]).length).toBe(data.forget[0].perturbed_answer.length);
    expect(Object.keys(m.forget_Q_A_ROUGE.value_by_index!['1']).sort()).toEqual(
      ['generation', 'ground_truth', 'input', 'rouge1_recall', 'rougeL_f1', 'rougeL_recall']);
    for (const mia of ['mia_loss', 'mia_zlib', 'mia_min_k', 'mia_min_k_plus_plus']) {
      expect(m[mia].agg_value).toBe(m[mia].auc);
      expect(m[mia].agg_value).toBeGreaterThanOrEqual(0);
      expect(m[mia].agg_value).toBeLessThanOrEqual(1);
      expect(Object.keys((m[mia].holdout as { value_by_index: object }).value_by_index)).toHaveLength(N);
    }
    const written = JSON.parse(await readFile(path.join(tmp, 'retain-model.json'), 'utf8'));
    expect(written).toEqual(JSON.parse(JSON.stringify({ ...m, eval_settings: first.settings })));
    expect(written.eval_settings).toMatchObject({ batchSize: 2, maxNewTokens: 12, maxLength: 512, template: 'plain', boundary: 'project', k: 0.4 });
  });

  it('is internally consistent (probabilities, truth ratios, model utility)', () => {
    const m = first.metrics;
    const rows = Object.values(m.forget_Q_A_Prob.value_by_index!) as { prob: number; avg_loss: number }[];
    rows.forEach((r) => expect(r.prob).toBeCloseTo(Math.exp(-r.avg_loss), 12));
    expect(m.forget_Q_A_Prob.agg_value).toBeCloseTo(rows.reduce((s, r) => s + r.prob, 0) / N, 12);
    const para = m.forget_Q_A_PARA_Prob.value_by_index!['2'].avg_loss as number;
    const pert = m.forget_Q_A_PERT_Prob.value_by_index!['2'].avg_loss as number[];
    expect(m.forget_truth_ratio.value_by_index!['2'].score).toBeCloseTo(truthRatio(para, pert), 12);
    const parts = ['retain_Q_A_Prob', 'retain_Q_A_ROUGE', 'retain_Truth_Ratio', 'ra_Q_A_Prob_normalised', 'ra_Q_A_ROUGE',
      'ra_Truth_Ratio', 'wf_Q_A_Prob_normalised', 'wf_Q_A_ROUGE', 'wf_Truth_Ratio'].map((k) => m[k].agg_value as number);
    expect(m.model_utility.agg_value).toBeCloseTo(harmonicMean(parts), 12);
    expect(m.ra_Q_A_Prob_normalised.agg_value).toBeLessThan(1);
  });

  it('matches unbatched passes (padding and batching do not change a row)', async () => {
    const before = tf.memory().numTensors;
    const row = data.forget[1];
    const { examples } = await encodeQa(tokenizer, [{ question: row.question, answer: row.answer }], { formatter: plainTemplate() });
    const batch = collate(examples, { padTokenId: 0 });
    const [alone] = await answerLogProbs(model, batch);
    tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
    expect(first.metrics.forget_Q_A_Prob.value_by_index!['1'].avg_loss).toBeCloseTo(alone.avgLoss, 4);
    const prompt = examples[0].inputIds.slice(0, examples[0].labels.findIndex((l) => l !== -100));
    const [tokens] = await generateTokens(model, [prompt], { maxNewTokens: 12, doSample: false }, tokenizer.eosTokenId);
    const eos = tokens.indexOf(tokenizer.eosTokenId!);
    const text = (await tokenizer.decode(eos >= 0 ? tokens.slice(0, eos) : tokens, { skipSpecialTokens: true })).trim();
    expect(first.metrics.forget_Q_A_ROUGE.value_by_index!['1'].generation).toBe(text);
    expect(first.metrics.forget_Q_A_ROUGE.value_by_index!['1'].ground_truth).toBe(row.answer);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports forget quality as null, with a warning, when no retain logs are given', () => {
    expect(first.metrics.forget_quality.agg_value).toBeNull();
    expect(warnings.join('\n')).toMatch(/forget_quality: no retain-only model evaluation/);
  });

  it('computes forget quality and privleak from retain logs (same model → p = 1, privleak 0)', async () => {
    const before = tf.memory().numTensors;
    const small = { ...data, retain: data.retain.slice(0, 1), realAuthors: data.realAuthors.slice(0, 1), worldFacts: data.worldFacts.slice(0, 1) };
    const second = await tofuSuite(model, tokenizer, small, {
      maxNewTokens: 2, retainLogsPath: path.join(tmp, 'retain-model.json'), onWarning: () => {},
    });
    expect(second.metrics.forget_quality.agg_value).toBe(1);
    expect(second.metrics.privleak.agg_value).toBeCloseTo(0, 6);
    expect(second.warnings).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects retain logs without forget_truth_ratio in one line naming the file', async () => {
    const bad = path.join(tmp, 'bad.json');
    await (await import('node:fs/promises')).writeFile(bad, '{"forget_Q_A_Prob": {}}');
    const before = tf.memory().numTensors;
    await expect(tofuSuite(model, tokenizer, data, { maxNewTokens: 1, retainLogsPath: bad })).rejects.toThrow(
      /bad\.json: not a TOFU evaluation with forget_truth_ratio/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

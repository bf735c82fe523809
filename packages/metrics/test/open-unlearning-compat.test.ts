// `boundary: 'open-unlearning'` reproduces open-unlearning's per-item numbers on the real stories260K Llama and real
// TOFU rows. Golden values: scripts/open_unlearning_reference.py, an independent float64 torch re-typing of
// open-unlearning's pipeline (its own tokenizer, model, collator, greedy search and rouge-score), committed output in
// fixtures/open-unlearning-reference.json. Probabilities to 1e-4 relative, ROUGE and greedy text exactly.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { encodeQa, loadTofuSuiteData, templateFormatter } from '@unlearn/data';
import { loadModel, loadTokenizer, type HFTokenizer, type TransformerLM } from '@unlearn/models';
import { initBackend } from '@unlearn/tensors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateMetrics, type EvaluateMetricsResult } from '../src/index.js';

const shared = path.resolve(import.meta.dirname, '../../../../shared');
const modelDir = path.join(shared, 'models/stories260K');
const golden = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures/open-unlearning-reference.json'), 'utf8'));
const N = golden.forget_Q_A_Prob.length as number;

let model: TransformerLM;
let tokenizer: HFTokenizer;
let result: EvaluateMetricsResult;
let rows: Awaited<ReturnType<typeof loadTofuSuiteData>>;
let before: number;

beforeAll(async () => {
  await initBackend('wasm');
  model = await loadModel(modelDir, { trainable: false });
  tokenizer = await loadTokenizer(modelDir);
  rows = await loadTofuSuiteData(path.join(shared, 'data/tofu'), { forget: 'forget10', limit: N });
  before = tf.memory().numTensors;
  result = await evaluateMetrics(
    ['forget_Q_A_Prob', 'forget_truth_ratio', 'forget_Q_A_ROUGE', 'ra_Q_A_Prob_normalised'], model, tokenizer,
    { forget: rows.forget, realAuthors: rows.realAuthors },
    { template: { template: 'plain', boundary: 'open-unlearning' }, maxNewTokens: golden.max_new_tokens, batchSize: golden.batch_size, onWarning: () => {} },
  );
}, 120_000);
afterAll(() => model?.dispose());

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("boundary 'open-unlearning' vs the Python re-typing of open-unlearning (stories260K, real TOFU rows)", () => {
  it('leaks no tensors', () => expect(tf.memory().numTensors).toBe(before));

  it('tokenizes as preprocess_chat_instance does (BOS + prompt + answer + EOS, len(prompt_ids) masked)', async () => {
    const { examples } = await encodeQa(tokenizer, [rows.forget[0]], {
      formatter: templateFormatter(tokenizer, { boundary: 'open-unlearning' }), boundary: 'open-unlearning', maxLength: golden.max_length,
    });
    expect(examples[0].inputIds).toEqual(golden.first_forget_item.input_ids);
    expect(examples[0].labels).toEqual(golden.first_forget_item.labels);
  });

  it('forget_Q_A_Prob and forget_truth_ratio per item to 1e-4 relative', () => {
    for (let i = 0; i < N; i++) {
      const ours = result.metrics.forget_Q_A_Prob.value_by_index![String(i)];
      expect(rel(ours.prob as number, golden.forget_Q_A_Prob[i].prob), `prob ${i}`).toBeLessThan(1e-4);
      expect(rel(ours.avg_loss as number, golden.forget_Q_A_Prob[i].avg_loss), `avg_loss ${i}`).toBeLessThan(1e-4);
      const tr = result.metrics.forget_truth_ratio.value_by_index![String(i)].score as number;
      expect(rel(tr, golden.forget_truth_ratio[i].score), `truth ratio ${i}`).toBeLessThan(1e-4);
    }
  });

  it('ra_Q_A_Prob_normalised per item to 1e-4 relative', () => {
    for (let i = 0; i < N; i++) {
      const p = result.metrics.ra_Q_A_Prob_normalised.value_by_index![String(i)].prob as number;
      expect(rel(p, golden.ra_Q_A_Prob_normalised[i].prob), `ra ${i}`).toBeLessThan(1e-4);
    }
  });

  it('forget_Q_A_ROUGE: the same 200-token greedy text, reference and prompt text, and the same ROUGE exactly', () => {
    for (let i = 0; i < N; i++) {
      const ours = result.metrics.forget_Q_A_ROUGE.value_by_index![String(i)];
      const g = golden.forget_Q_A_ROUGE[i];
      expect(ours.generation, `generation ${i}`).toBe(g.generation);
      expect(ours.ground_truth, `ground truth ${i}`).toBe(g.ground_truth);
      expect(ours.input, `input ${i}`).toBe(g.input);
      for (const k of ['rouge1_recall', 'rougeL_f1', 'rougeL_recall']) expect(ours[k], `${k} ${i}`).toBe(g[k]);
    }
  });
});

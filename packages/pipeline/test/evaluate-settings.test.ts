// `evaluate` on the real stories260K Llama over two real TOFU forget10 rows, with the defaults a user gets:
// D1 — the evaluation has its own length (min(512, positions)), so an answer longer than data.maxLength is scored
//      whole and the ROUGE reference is the raw answer; an explicit short eval.maxLength warns naming split and count;
// D2 — 200 greedy tokens by default (open-unlearning's max_new_tokens);
// D7 — eval.retainModel is evaluated on the fly (cached; the shared model folder is read-only, so in the run folder):
//      the same model as its own retain model gives forget quality 1 and privleak 0.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { collate, encodeQa, loadTofuSuiteData, plainTemplate } from '@unlearn/data';
import { list } from '@unlearn/core';
import { answerLogProbs, TOFU_METRICS } from '@unlearn/metrics';
import { loadModel, loadTokenizer } from '@unlearn/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, runConfigSchema, type RunEvent } from '../src/index.js';

const shared = path.resolve(import.meta.dirname, '../../../../shared');
const modelDir = path.join(shared, 'models/stories260K');
const tofuDir = path.join(shared, 'data/tofu');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-eval-settings-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const base = (name: string, evalConfig: Record<string, unknown>, model = modelDir) => ({
  backend: 'wasm' as const, out: path.join(dir, 'runs'), name, model: { path: model },
  data: { dir: tofuDir, forget: 'forget10', maxLength: 64 }, eval: { maxItems: 2, ...evalConfig },
});

describe('evaluate: evaluation settings (D1, D2, D7)', () => {
  it('every TOFU metric is registered (unlearn list), and eval.metrics names are checked against the registry', () => {
    for (const name of TOFU_METRICS) expect(list('metric')).toContain(name);
    const parsed = runConfigSchema.safeParse({ eval: { metrics: ['forget_Q_A_Prob', 'nope'] } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['eval.metrics.1', expect.stringMatching(/^"nope" is not one of .*forget_Q_A_Prob/)]]);
  });

  it('defaults: eval.maxNewTokens 200, eval.maxLength unset (min(512, positions)), project boundary, plain template', () => {
    const c = runConfigSchema.parse({});
    expect(c.eval).toMatchObject({ maxNewTokens: 200, batchSize: 32, template: 'plain', compat: 'project' });
    expect(c.eval.maxLength).toBeUndefined();
    expect(c.data.maxLength).toBeUndefined(); // a run fills it from the model's positions (preflight)
  });

  it('scores a long answer whole, with the raw answer as ROUGE reference, 200 new tokens, settings in eval.json', async () => {
    const before = tf.memory().numTensors;
    const events: RunEvent[] = [];
    const r = await evaluate(base('long', { metrics: ['forget_Q_A_Prob', 'forget_Q_A_ROUGE'] }), { onEvent: (e) => void events.push(e) });
    const ev = JSON.parse(await readFile(r.folder.eval, 'utf8'));
    const rows = (await loadTofuSuiteData(tofuDir, { forget: 'forget10', limit: 2 })).forget;
    const tokenizer = await loadTokenizer(modelDir);
    const { examples } = await encodeQa(tokenizer, rows, { formatter: plainTemplate() });
    for (const e of examples) expect(e.inputIds.length).toBeGreaterThan(64); // longer than data.maxLength: the old eval cut them
    for (const i of [0, 1]) expect(ev.forget_Q_A_ROUGE.value_by_index[String(i)].ground_truth).toBe(rows[i].answer);
    // scored whole: the mean NLL over every answer token (+ EOS) of the uncut sequence, computed here directly
    const model = await loadModel(modelDir, { trainable: false });
    try {
      const batch = collate(examples, { padTokenId: 0, paddingSide: 'right' });
      const whole = await answerLogProbs(model, batch);
      tf.dispose([batch.inputIds, batch.attentionMask, batch.labels]);
      for (const i of [0, 1]) expect(ev.forget_Q_A_Prob.value_by_index[String(i)].avg_loss).toBeCloseTo(whole[i].avgLoss, 5);
    } finally {
      model.dispose();
    }
    expect(ev.eval_settings).toMatchObject({ maxNewTokens: 200, maxLength: 512, batchSize: 32, template: 'plain', boundary: 'project', backend: 'wasm', precision: 'float32' });
    expect(events.filter((e) => e.event === 'eval-warning')).toEqual([]); // nothing truncated at 512
    // the greedy continuation ran past the old 32-token cap (stories260K rarely emits EOS)
    const gen = ev.forget_Q_A_ROUGE.value_by_index['0'].generation as string;
    expect((await tokenizer.encode(gen, { addSpecialTokens: false })).length).toBeGreaterThan(100);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('warns in one line naming the split and the count when eval.maxLength cuts rows', async () => {
    const events: RunEvent[] = [];
    await evaluate(base('short', { metrics: ['forget_Q_A_Prob'], maxLength: 100 }), { onEvent: (e) => void events.push(e) });
    const rows = (await loadTofuSuiteData(tofuDir, { forget: 'forget10', limit: 2 })).forget;
    const { examples } = await encodeQa(await loadTokenizer(modelDir), rows, { formatter: plainTemplate() });
    const cut = examples.filter((e) => e.inputIds.length > 100);
    expect(cut.length).toBeGreaterThan(0);
    const tokens = cut.reduce((s, e) => s + e.inputIds.length - 100, 0);
    const warnings = events.filter((e) => e.event === 'eval-warning').map((e) => (e as { message: string }).message);
    expect(warnings).toEqual([`eval: forget answer: ${cut.length} of 2 rows cut to maxLength 100 (${tokens} tokens)`]);
  }, 60_000);

  it('eval.retainModel: forget quality and privleak without a prior eval.json, cached for the next run', async () => {
    const before = tf.memory().numTensors;
    const metrics = ['forget_quality', 'privleak'];
    const retainDir = path.join(dir, 'retain-model'); // a writable copy: the cache goes into the retain model's folder
    await mkdir(retainDir);
    for (const f of ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) await copyFile(path.join(modelDir, f), path.join(retainDir, f));
    const events: RunEvent[] = [];
    const first = await evaluate(base('with-retain', { metrics, retainModel: retainDir }), { onEvent: (e) => void events.push(e) });
    const ev = JSON.parse(await readFile(first.folder.eval, 'utf8'));
    expect(ev.forget_quality.agg_value).toBe(1);
    expect(ev.privleak.agg_value).toBeCloseTo(0, 6);
    expect(first.summary.metrics).toMatchObject({ forgetQuality: 1 });
    const cacheRoot = path.join(retainDir, '.unlearn-eval');
    const [key] = await readdir(cacheRoot);
    const cached = JSON.parse(await readFile(path.join(cacheRoot, key, 'eval.json'), 'utf8'));
    expect(Object.keys(cached.forget_truth_ratio.value_by_index)).toEqual(['0', '1']);
    expect(cached.eval_settings.model).toBe(retainDir);
    expect(Object.keys(cached).sort()).toEqual(['eval_settings', 'forget_Q_A_PARA_Prob', 'forget_Q_A_PERT_Prob', 'forget_truth_ratio', 'mia_min_k']);
    const infos = (es: RunEvent[]) => es.filter((e) => e.event === 'info').map((e) => (e as { message: string }).message).join('\n');
    expect(infos(events)).toMatch(/retain-only evaluation cached in/);
    // the next run reads the cache instead of evaluating the retain model again
    const again: RunEvent[] = [];
    const second = await evaluate(base('with-retain-2', { metrics, retainModel: retainDir }), { onEvent: (e) => void again.push(e) });
    expect(infos(again)).toMatch(/cached evaluation/);
    expect(second.summary.metrics).toMatchObject({ forgetQuality: 1 });
    // a read-only retain folder (no write bits, as ../shared is): the cache goes into the run folder instead
    const third = await evaluate(base('read-only-retain', { metrics: ['forget_quality'], retainModel: modelDir }));
    const [key3] = await readdir(path.join(third.folder.dir, 'retain-eval'));
    expect(JSON.parse(await readFile(path.join(third.folder.dir, 'retain-eval', key3, 'eval.json'), 'utf8')).eval_settings.model).toBe(modelDir);
    expect(existsSync(path.join(modelDir, '.unlearn-eval'))).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('eval.data: a user JSONL for a metric (mc_accuracy) without TOFU on disk; mia_reference from eval.retainModel', async () => {
    const file = path.join(dir, 'mc.jsonl');
    await writeFile(file, [
      { question: 'What did Lily find?', choices: ['a needle', 'a car'], answer: 0 },
      { question: 'What did Tim like?', choices: ['taxes', 'his ball', 'a computer'], answer: 1 },
    ].map((r) => JSON.stringify(r)).join('\n'));
    const r = await evaluate({ ...base('mc', { metrics: ['mc_accuracy'], data: { multipleChoice: file } }), data: { dir: path.join(dir, 'no-tofu-here') } });
    const ev = JSON.parse(await readFile(r.folder.eval, 'utf8'));
    expect(Object.keys(ev.mc_accuracy.value_by_index)).toEqual(['0', '1']);
    expect(ev.mc_accuracy.value_by_index['1'].loglik).toHaveLength(3);
    const ref = await evaluate(base('reference', { metrics: ['mia_reference'], retainModel: modelDir }));
    const mia = JSON.parse(await readFile(ref.folder.eval, 'utf8')).mia_reference;
    expect(Object.values(mia.forget.value_by_index).map((v) => (v as { score: number }).score)).toEqual([0, 0]); // same model
    expect(mia.agg_value).toBe(0.5);
  }, 60_000);

  it("eval.compat 'open-unlearning' gives open-unlearning's per-item numbers (the Python re-typing's goldens)", async () => {
    const golden = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../metrics/test/fixtures/open-unlearning-reference.json'), 'utf8'));
    const r = await evaluate(base('compat', {
      metrics: ['forget_Q_A_Prob', 'forget_truth_ratio', 'ra_Q_A_Prob_normalised'], compat: 'open-unlearning', maxItems: golden.forget_Q_A_Prob.length,
    }));
    const ev = JSON.parse(await readFile(r.folder.eval, 'utf8'));
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    golden.forget_Q_A_Prob.forEach((g: { prob: number }, i: number) => expect(rel(ev.forget_Q_A_Prob.value_by_index[i].prob, g.prob)).toBeLessThan(1e-4));
    golden.forget_truth_ratio.forEach((g: { score: number }, i: number) => expect(rel(ev.forget_truth_ratio.value_by_index[i].score, g.score)).toBeLessThan(1e-4));
    golden.ra_Q_A_Prob_normalised.forEach((g: { prob: number }, i: number) => expect(rel(ev.ra_Q_A_Prob_normalised.value_by_index[i].prob, g.prob)).toBeLessThan(1e-4));
    expect(ev.eval_settings).toMatchObject({ boundary: 'open-unlearning', template: 'plain' });
  }, 60_000);
});

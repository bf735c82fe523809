// The TOFU evaluation (Maini et al. 2024) as open-unlearning runs it (configs/eval/tofu.yaml), writing one JSON whose
// keys and per-index layout are open-unlearning's TOFU_EVAL.json, so numbers compare side by side:
//   forget_*  on forgetNN_perturbed   retain_* on retain_perturbed   ra_* / wf_* on real_authors / world_facts_perturbed
//   mia_*     forget (forgetNN_perturbed question/answer) vs holdoutNN, AUC with forget = 0, holdout = 1
// Teacher-forced numbers come from one batched forward per batch (answer-log-probs.ts); ROUGE from batched greedy
// generation. forget_quality needs the retain-only model's saved evaluation (`retainLogsPath`, open-unlearning's
// `retain_logs_path`): without it forget_quality is null and a warning says why; privleak then uses AUC_retain = 0.5
// as open-unlearning does.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isLabelled, type GenerativeLM, type Tokenizer } from '@unlearn/core';
import {
  collate, defaultPadTokenId, encodeQa, plainTemplate, type EncodedExample, type PromptFormatter, type QaRow, type TofuSuiteData,
} from '@unlearn/data';
import { writeFileAtomic } from '@unlearn/tensors';
import { z } from 'zod';
import { answerLogProbs, optionNormalisedProbs, type AnswerStats } from './answer-log-probs.js';
import { exactMemorization } from './exact-memorization.js';
import { extractionStrength } from './extraction-strength.js';
import { forgetQuality } from './forget-quality.js';
import { lossScore } from './mia-loss.js';
import { MIN_K_DEFAULT, minKScore } from './mia-min-k.js';
import { minKPlusPlusScore } from './mia-min-k-plus-plus.js';
import { zlibScore } from './mia-zlib.js';
import { harmonicMean } from './model-utility.js';
import { privleak } from './privleak.js';
import { rocAuc } from './roc-auc.js';
import { rougeScores } from './rouge.js';
import { aggregateTruthRatios, truthRatio, type TruthRatioAggregator } from './truth-ratio.js';

export interface TofuSuiteOptions {
  /** Prompt format; default `plainTemplate()` (`Question: …\nAnswer: …`), which suits base models like stories260K. */
  formatter?: PromptFormatter;
  /** Rows per teacher-forced forward (default 32). */
  batchSize?: number;
  /** Prompts per batched generation (default 64, open-unlearning's ROUGE batch size). */
  generationBatchSize?: number;
  /** Greedy tokens per answer for ROUGE (default 200, open-unlearning's generation default). */
  maxNewTokens?: number;
  /** Cut answers to this many tokens in total (default: the model's max_position_embeddings). */
  maxLength?: number;
  /** Min-K% / Min-K%++ fraction (default 0.4, TOFU's configuration). */
  k?: number;
  /** The retain-only model's evaluation JSON (this suite's output or open-unlearning's TOFU_EVAL.json). */
  retainLogsPath?: string | null;
  /** Write the result here (atomically). */
  outputPath?: string;
  /** Progress lines (default: none). */
  onProgress?: (message: string) => void;
  /** Warnings (default: console.warn). */
  onWarning?: (message: string) => void;
}

/** One metric entry as open-unlearning writes it. */
export interface MetricResult {
  agg_value: number | null;
  value_by_index?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

export interface TofuSuiteResult {
  /** The TOFU_EVAL.json object: metric name → { agg_value, value_by_index, … }. */
  metrics: Record<string, MetricResult>;
  /** Wall time per phase in ms (teacher-forced passes per split, generation per split, …). */
  timings: Record<string, number>;
  warnings: string[];
}

const retainLogsSchema = z
  .object({
    forget_truth_ratio: z.object({ value_by_index: z.record(z.object({ score: z.number() }).passthrough()) }).passthrough(),
    mia_min_k: z.object({ agg_value: z.number() }).passthrough().optional(),
  })
  .passthrough();

async function readRetainLogs(file: string): Promise<z.infer<typeof retainLogsSchema>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read retain-model logs (${(e as Error).message.split('\n')[0]})`);
  }
  const parsed = retainLogsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: not a TOFU evaluation with forget_truth_ratio.value_by_index (${issue.path.join('.') || '(root)'}: ${issue.message})`);
  }
  return parsed.data;
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
const byIndex = <T>(values: readonly T[], f: (v: T) => Record<string, unknown>): Record<string, Record<string, unknown>> =>
  Object.fromEntries(values.map((v, i) => [String(i), f(v)]));

/** Runs every metric of TOFU on `model`; see the file comment for what each key holds. */
export async function tofuSuite(
  model: GenerativeLM, tokenizer: Tokenizer, data: TofuSuiteData, options: TofuSuiteOptions = {},
): Promise<TofuSuiteResult> {
  const formatter = options.formatter ?? plainTemplate();
  const batchSize = options.batchSize ?? 32;
  const generationBatchSize = options.generationBatchSize ?? 64;
  const maxNewTokens = options.maxNewTokens ?? 200;
  const positions = model.config.max_position_embeddings;
  const maxLength = options.maxLength ?? (typeof positions === 'number' ? positions : undefined);
  const k = options.k ?? MIN_K_DEFAULT;
  const progress = options.onProgress ?? (() => {});
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    (options.onWarning ?? ((m: string) => console.warn(m)))(message);
  };
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      timings[name] = (timings[name] ?? 0) + (performance.now() - t0);
    }
  };
  const padTokenId = defaultPadTokenId(tokenizer);
  for (const [name, rows] of Object.entries(data)) {
    if (!Array.isArray(rows) || rows.length === 0) throw new Error(`tofuSuite: data.${name} has no rows`);
  }

  /** Teacher-forced stats for (question, answer) pairs, batched by length, returned in input order. */
  const teacherForced = async (source: string, rows: QaRow[], vocabStats = false): Promise<{ stats: AnswerStats[]; examples: EncodedExample[] }> => {
    const { examples } = await encodeQa(tokenizer, rows, { formatter, maxLength, source });
    const order = examples.map((_, i) => i).sort((a, b) => examples[a].inputIds.length - examples[b].inputIds.length);
    const stats = new Array<AnswerStats>(examples.length);
    for (let start = 0; start < order.length; start += batchSize) {
      const ids = order.slice(start, start + batchSize);
      const batch = collate(ids.map((i) => examples[i]), { padTokenId, paddingSide: 'right' });
      try {
        const out = await answerLogProbs(model, batch, { vocabStats });
        ids.forEach((i, j) => (stats[i] = out[j]));
      } finally {
        batch.inputIds.dispose();
        batch.attentionMask.dispose();
        batch.labels.dispose();
      }
      progress(`${source}: ${Math.min(start + batchSize, order.length)}/${order.length} teacher-forced`);
    }
    return { stats, examples };
  };

  /** Stats of every perturbed answer of every row, regrouped per row. */
  const perturbed = async (source: string, rows: { question: string; perturbed_answer: string[] }[]): Promise<AnswerStats[][]> => {
    const flat = rows.flatMap((r) => r.perturbed_answer.map((answer) => ({ question: r.question, answer })));
    const { stats } = await teacherForced(source, flat);
    const grouped: AnswerStats[][] = [];
    let at = 0;
    for (const r of rows) {
      grouped.push(stats.slice(at, at + r.perturbed_answer.length));
      at += r.perturbed_answer.length;
    }
    return grouped;
  };

  const probMetric = (stats: AnswerStats[]): MetricResult => ({
    agg_value: mean(stats.map((s) => s.prob)),
    value_by_index: byIndex(stats, (s) => ({ prob: s.prob, avg_loss: s.avgLoss })),
  });
  const pertMetric = (groups: AnswerStats[][]): MetricResult => ({
    agg_value: mean(groups.map((g) => mean(g.map((s) => s.prob)))),
    value_by_index: byIndex(groups, (g) => ({ prob: g.map((s) => s.prob), avg_loss: g.map((s) => s.avgLoss) })),
  });
  const truthRatioMetric = (correct: AnswerStats[], wrong: AnswerStats[][], aggregator: TruthRatioAggregator): MetricResult => {
    const ratios = correct.map((c, i) => truthRatio(c.avgLoss, wrong[i].map((w) => w.avgLoss)));
    return { agg_value: aggregateTruthRatios(ratios, aggregator), value_by_index: byIndex(ratios, (r) => ({ score: r })) };
  };

  /** Greedy answers to each question, scored against the answer text as open-unlearning's `eval_text_similarity`. */
  const rougeMetric = async (source: string, rows: QaRow[]): Promise<MetricResult> => {
    const { examples } = await encodeQa(tokenizer, rows, { formatter, maxLength, source });
    const prompts = examples.map((e) => e.inputIds.slice(0, e.labels.findIndex(isLabelled)));
    const eos = tokenizer.eosTokenId;
    const order = prompts.map((_, i) => i).sort((a, b) => prompts[a].length - prompts[b].length);
    const generated = new Array<number[]>(prompts.length);
    for (let start = 0; start < order.length; start += generationBatchSize) {
      const ids = order.slice(start, start + generationBatchSize);
      const out = await model.generateTokens(ids.map((i) => prompts[i]), { maxNewTokens, doSample: false, padTokenId, defaultEosTokenId: eos });
      ids.forEach((i, j) => (generated[i] = out[j]));
      progress(`${source}: ${Math.min(start + generationBatchSize, order.length)}/${order.length} generated`);
    }
    const scores = await Promise.all(examples.map(async (e, i) => {
      const newTokens = generated[i];
      const stop = eos === null ? -1 : newTokens.indexOf(eos);
      const generation = (await tokenizer.decode(stop >= 0 ? newTokens.slice(0, stop) : newTokens, { skipSpecialTokens: true })).trim();
      const groundTruth = (await tokenizer.decode(e.labels.filter(isLabelled), { skipSpecialTokens: true })).trim();
      const input = await tokenizer.decode(prompts[i], { skipSpecialTokens: true });
      const r = rougeScores(generation, groundTruth);
      return { rouge1_recall: r.rouge1.recall, rougeL_f1: r.rougeL.f1, rougeL_recall: r.rougeL.recall, input, ground_truth: groundTruth, generation };
    }));
    return { agg_value: mean(scores.map((s) => s.rougeL_recall)), value_by_index: byIndex(scores, (s) => s) };
  };

  // Read the retain-only model's logs first, so a bad path fails before any model work.
  let retainLogs: z.infer<typeof retainLogsSchema> | null = null;
  if (options.retainLogsPath) retainLogs = await readRetainLogs(options.retainLogsPath);
  else warn('tofuSuite: no retainLogsPath (the retain-only model\'s evaluation JSON); forget_quality is null and privleak uses AUC_retain = 0.5');

  const metrics: Record<string, MetricResult> = {};
  const qa = (rows: { question: string; answer: string }[]): QaRow[] => rows.map((r) => ({ question: r.question, answer: r.answer }));

  // --- forget ------------------------------------------------------------------------------------------------------
  progress('forget split');
  const forgetQa = await timed('forget_teacher_forced', () => teacherForced('forget', qa(data.forget), true));
  const forgetPara = await timed('forget_teacher_forced', () =>
    teacherForced('forget paraphrased', data.forget.map((r) => ({ question: r.question, answer: r.paraphrased_answer }))));
  const forgetPert = await timed('forget_teacher_forced', () => perturbed('forget perturbed', data.forget));
  metrics.forget_Q_A_Prob = probMetric(forgetQa.stats);
  metrics.forget_Q_A_PARA_Prob = probMetric(forgetPara.stats);
  metrics.forget_Q_A_PERT_Prob = pertMetric(forgetPert);
  metrics.forget_truth_ratio = truthRatioMetric(forgetPara.stats, forgetPert, 'closer_to_1_better');
  metrics.forget_Q_A_ROUGE = await timed('forget_generation', () => rougeMetric('forget', qa(data.forget)));

  // forget quality: KS p-value of raw truth ratios vs the retain-only model's (open-unlearning `ks_test`)
  const forgetRatios = Object.values(metrics.forget_truth_ratio.value_by_index!).map((v) => v.score as number);
  metrics.forget_quality = {
    agg_value: retainLogs
      ? forgetQuality(forgetRatios, Object.values(retainLogs.forget_truth_ratio.value_by_index).map((v) => v.score))
      : null,
  };

  // --- retain, real authors, world facts ---------------------------------------------------------------------------
  progress('retain split');
  const retainQa = await timed('retain_teacher_forced', () => teacherForced('retain', qa(data.retain)));
  const retainPara = await timed('retain_teacher_forced', () =>
    teacherForced('retain paraphrased', data.retain.map((r) => ({ question: r.question, answer: r.paraphrased_answer }))));
  const retainPert = await timed('retain_teacher_forced', () => perturbed('retain perturbed', data.retain));
  metrics.retain_Q_A_Prob = probMetric(retainQa.stats);
  metrics.retain_Q_A_PARA_Prob = probMetric(retainPara.stats);
  metrics.retain_Q_A_PERT_Prob = pertMetric(retainPert);
  metrics.retain_Truth_Ratio = truthRatioMetric(retainPara.stats, retainPert, 'true_better');
  metrics.retain_Q_A_ROUGE = await timed('retain_generation', () => rougeMetric('retain', qa(data.retain)));

  for (const [prefix, rows] of [['ra', data.realAuthors], ['wf', data.worldFacts]] as const) {
    progress(`${prefix} split`);
    const correct = await timed(`${prefix}_teacher_forced`, () => teacherForced(prefix, qa(rows)));
    const wrong = await timed(`${prefix}_teacher_forced`, () => perturbed(`${prefix} options`, rows));
    metrics[`${prefix}_Q_A_Prob`] = probMetric(correct.stats);
    metrics[`${prefix}_Q_A_PERT_Prob`] = pertMetric(wrong);
    const normalised = optionNormalisedProbs(correct.stats.map((s) => s.prob), wrong.map((g) => g.map((s) => s.prob)));
    metrics[`${prefix}_Q_A_Prob_normalised`] = { agg_value: mean(normalised), value_by_index: byIndex(normalised, (p) => ({ prob: p })) };
    metrics[`${prefix}_Truth_Ratio`] = truthRatioMetric(correct.stats, wrong, 'true_better');
    metrics[`${prefix}_Q_A_ROUGE`] = await timed(`${prefix}_generation`, () => rougeMetric(prefix, qa(rows)));
  }

  const utilityParts = [
    'retain_Q_A_Prob', 'retain_Q_A_ROUGE', 'retain_Truth_Ratio', 'ra_Q_A_Prob_normalised', 'ra_Q_A_ROUGE', 'ra_Truth_Ratio',
    'wf_Q_A_Prob_normalised', 'wf_Q_A_ROUGE', 'wf_Truth_Ratio',
  ];
  metrics.model_utility = { agg_value: harmonicMean(utilityParts.map((name) => metrics[name].agg_value as number)) };

  // --- memorization and membership inference -----------------------------------------------------------------------
  const es = forgetQa.stats.map((s) => extractionStrength(s.predictions, s.labels));
  metrics.extraction_strength = { agg_value: mean(es), value_by_index: byIndex(es, (score) => ({ score })) };
  const em = forgetQa.stats.map((s) => exactMemorization(s.predictions, s.labels));
  const emValid = em.filter((x): x is number => x !== null);
  metrics.exact_memorization = { agg_value: mean(emValid), value_by_index: byIndex(em, (score) => ({ score })) };

  progress('holdout split');
  const holdoutQa = await timed('holdout_teacher_forced', () => teacherForced('holdout', qa(data.holdout), true));
  const answerText = async (e: EncodedExample): Promise<string> =>
    tokenizer.decode(e.labels.filter(isLabelled), { skipSpecialTokens: true });
  const [forgetTexts, holdoutTexts] = await Promise.all([
    Promise.all(forgetQa.examples.map(answerText)), Promise.all(holdoutQa.examples.map(answerText)),
  ]);
  const attacks: [string, (s: AnswerStats, text: string) => number][] = [
    ['mia_min_k_plus_plus', (s) => minKPlusPlusScore(s.tokenLogProbs, s.vocabMeans!, s.vocabVariances!, k)],
    ['mia_min_k', (s) => minKScore(s.tokenLogProbs, k)],
    ['mia_loss', (s) => lossScore(s.avgLoss)],
    ['mia_zlib', (s, text) => zlibScore(s.avgLoss, text)],
  ];
  for (const [name, score] of attacks) {
    const forgetScores = forgetQa.stats.map((s, i) => score(s, forgetTexts[i]));
    const holdoutScores = holdoutQa.stats.map((s, i) => score(s, holdoutTexts[i]));
    // open-unlearning `mia_auc`: labels forget = 0, holdout = 1, so AUC → 1 when forget items look like members
    const auc = rocAuc([...forgetScores, ...holdoutScores], [...forgetScores.map(() => 0), ...holdoutScores.map(() => 1)]);
    metrics[name] = {
      forget: { agg_value: mean(forgetScores), value_by_index: byIndex(forgetScores, (s) => ({ score: s })) },
      holdout: { agg_value: mean(holdoutScores), value_by_index: byIndex(holdoutScores, (s) => ({ score: s })) },
      auc,
      agg_value: auc,
    };
  }
  const retainAuc = retainLogs?.mia_min_k?.agg_value;
  if (retainLogs && retainAuc === undefined) warn(`tofuSuite: ${options.retainLogsPath} has no mia_min_k; privleak uses AUC_retain = 0.5`);
  metrics.privleak = { agg_value: privleak(metrics.mia_min_k.agg_value as number, retainAuc ?? 0.5) };

  if (options.outputPath) {
    await writeFileAtomic(path.resolve(options.outputPath), `${JSON.stringify(metrics, null, 2)}\n`);
  }
  return { metrics, timings, warnings };
}

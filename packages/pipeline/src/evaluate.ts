// `evaluate(config)`: a model with @unlearn/metrics' registered metrics (default: the TOFU suite); eval.json holds the
// suite's full output (open-unlearning's layout plus `eval_settings`, every setting that shaped a number), the run
// summary the headline numbers. The splits come from @unlearn/data's one loader. The evaluation has its own lengths
// (eval.maxLength, default min(512, positions)) — never data.maxLength, the training length.
// eval.retainModel: the retain-only model's forget truth ratios and Min-K AUC (what forget_quality and privleak read)
// are evaluated on the fly with the same settings and cached as eval.json under <retainModel>/.unlearn-eval/<key>/
// (or under the run folder when that folder is read-only), so no prior eval.json is needed.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { GenerativeLM, Tokenizer } from '@unlearn/core';
import { loadTofuSuiteData, readJsonLines } from '@unlearn/data';
import { z } from 'zod';
import {
  evaluateMetrics, parsePythonJson, readRetainLogs, resolveMetrics, RETAIN_REFERENCE_METRICS, SUITES, type EvaluateMetricsOptions,
} from '@unlearn/metrics';
import { writeFileAtomic } from '@unlearn/tensors';
import type { RunConfig, RunConfigInput } from './config/schema.js';
import { evalTemplate } from './eval-template.js';
import { loadRunModel } from './model-io.js';
import type { RunSummary } from './report/report.js';
import { inRunFolder, resolveRunConfig, type RunContext, type RunOptions, type RunResult } from './run/run.js';

/** What `evaluate` fills in under the caller's config. */
export const EVAL_DEFAULTS: RunConfigInput = {};

export interface EvalOutcome {
  /** Headline numbers under the report's keys (forgetQuality, modelUtility, forgetRougeL, privleak, …). */
  metrics: Record<string, number | null>;
  /** The suite's whole output (written to eval.json). */
  raw: Record<string, unknown>;
}

const agg = (raw: Record<string, unknown>, key: string): number | null => {
  const v = raw[key] as { agg_value?: unknown } | number | undefined;
  const x = typeof v === 'number' ? v : v?.agg_value;
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
};

/** open-unlearning key → the report's key. */
const HEADLINE: Record<string, string> = {
  forget_quality: 'forgetQuality',
  model_utility: 'modelUtility',
  forget_Q_A_ROUGE: 'forgetRougeL',
  privleak: 'privleak',
  forget_Q_A_Prob: 'forgetProb',
  forget_truth_ratio: 'forgetTruthRatio',
  extraction_strength: 'extractionStrength',
};

/** The TOFU suite's splits for a run config: its forget split (and author subset), holdout, at most eval.maxItems each. */
export function loadEvalData(config: RunConfig) {
  return loadTofuSuiteData(config.data.dir, {
    forget: config.data.forget, holdout: config.data.holdout, forgetAuthors: config.data.forgetAuthors,
    qaPerAuthor: config.data.qaPerAuthor, limit: config.eval.maxItems,
  });
}

const TOFU_KEYS = ['forget', 'holdout', 'retain', 'realAuthors', 'worldFacts'];

/**
 * The data the metrics read: TOFU's splits (only when a metric needs one) and eval.data's JSONL files by key
 * (rows are checked by the metrics that read them).
 */
export async function loadMetricData(config: RunConfig, names: readonly string[]): Promise<Record<string, unknown>> {
  const keys = new Set(resolveMetrics(names).flatMap((m) => [...(m.metric.data ?? [])]));
  const data: Record<string, unknown> = TOFU_KEYS.some((k) => keys.has(k)) ? { ...(await loadEvalData(config)) } : {};
  for (const [key, file] of Object.entries(config.eval.data ?? {})) {
    const rows = await readJsonLines(file, z.record(z.unknown()));
    data[key] = config.eval.maxItems === undefined ? rows : rows.slice(0, config.eval.maxItems);
  }
  return data;
}

/** evaluateMetrics' options for a run config (everything but retain logs and output). */
export async function evalOptions(config: RunConfig, backend?: string): Promise<EvaluateMetricsOptions> {
  const e = config.eval;
  const template = evalTemplate(config);
  return {
    batchSize: e.batchSize, maxNewTokens: e.maxNewTokens, maxLength: e.maxLength, template,
    record: {
      backend: backend ?? null, precision: 'float32', chatTemplateFile: e.chatTemplate ?? null,
      data: { dir: config.data.dir, forget: config.data.forget, holdout: config.data.holdout ?? null, forgetAuthors: config.data.forgetAuthors ?? null, maxItems: e.maxItems ?? null },
    },
  };
}

/**
 * The retain-only model's evaluation: eval.retainEval as written, or eval.retainModel evaluated now with the same
 * settings (RETAIN_REFERENCE_METRICS), cached. Null when neither is set.
 */
export async function retainReference(
  ctx: RunContext, data: Record<string, unknown>, options: EvaluateMetricsOptions, metrics: readonly string[] = RETAIN_REFERENCE_METRICS,
): Promise<Record<string, unknown> | null> {
  const { config, log, folder } = ctx;
  if (config.eval.retainEval) return readRetainLogs(config.eval.retainEval);
  const dir = config.eval.retainModel;
  if (!dir) return null;
  if (!existsSync(path.join(dir, 'config.json'))) throw new Error(`eval.retainModel ${dir}: no config.json (a Hugging Face model folder is needed)`);
  // the cache key: everything that shapes the numbers, and the weights file's size and time (a retrained folder misses)
  const weights = path.join(dir, 'model.safetensors');
  const stamp = existsSync(weights) ? `${statSync(weights).size}:${statSync(weights).mtimeMs}` : null;
  const key = createHash('sha256')
    .update(JSON.stringify({ metrics, ...options, onProgress: undefined, onWarning: undefined, extraData: config.eval.data ?? null, weights: stamp }))
    .digest('hex').slice(0, 16);
  // a folder without write bits counts as read-only even for root (shared, mounted read-only model folders)
  const writable = (statSync(dir).mode & 0o222) !== 0;
  const candidates = [
    ...(writable ? [path.join(dir, '.unlearn-eval', key, 'eval.json')] : []), path.join(folder.dir, 'retain-eval', key, 'eval.json'),
  ];
  for (const file of candidates) {
    if (existsSync(file)) {
      log.info(`eval: retain-only model ${dir}: cached evaluation ${file}`);
      return parsePythonJson(await readFile(file, 'utf8')) as Record<string, unknown>;
    }
  }
  log.info(`eval: retain-only model ${dir}: evaluating ${metrics.join(', ')}`);
  const hasTokenizer = existsSync(path.join(dir, 'tokenizer.json'));
  const { model, tokenizer } = await loadRunModel({
    ...config, model: { path: dir, tokenizer: hasTokenizer ? undefined : config.model.tokenizer ?? config.model.path },
    lora: undefined, // the retain-only model is a plain folder: the run's adapters are not its
  });
  let text: string;
  try {
    const result = await evaluateMetrics(metrics, model, tokenizer, data, {
      ...options,
      onProgress: (m) => log.event('eval-progress', { message: `retain model: ${m}` }),
      onWarning: (m) => warn(ctx, `retain model: ${m}`),
    });
    text = `${JSON.stringify({ ...result.metrics, eval_settings: { ...result.settings, model: dir } }, null, 2)}\n`;
  } finally {
    model.dispose();
  }
  for (const file of candidates) {
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFileAtomic(file, text);
      log.info(`eval: retain-only evaluation cached in ${file}`);
      break;
    } catch (err) {
      log.info(`eval: cannot cache in ${path.dirname(file)} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return JSON.parse(text) as Record<string, unknown>;
}

/** A warning: an `eval-warning` event and a line the CLI prints. */
function warn(ctx: RunContext, message: string): void {
  ctx.log.event('eval-warning', { message });
  ctx.log.info(`warning: ${message}`);
}

/** Runs the configured metrics on `model` inside a run (eval.json, `eval` events); returns the headline metrics. */
export async function evaluateModel(ctx: RunContext, model: GenerativeLM, tokenizer: Tokenizer): Promise<EvalOutcome> {
  const { config, log, folder } = ctx;
  const t0 = Date.now();
  const options = await evalOptions(config, ctx.backend?.backend);
  const names = (config.eval.metrics ?? ['tofu']).flatMap((n) => SUITES[n] ?? [n]);
  const data = await loadMetricData(config, names);
  const haveRetain = Boolean(config.eval.retainEval || config.eval.retainModel);
  const forgetItems = Array.isArray(data.forget) ? `, ${data.forget.length} forget items` : '';
  log.info(`eval: ${names.length} metrics${forgetItems}${haveRetain ? '' : ' (no retain-only model: forget quality will be null)'}`);
  // what the retain-only model must provide: open-unlearning's retain_logs keys for the metrics asked for
  const resolved = new Set(resolveMetrics(names).map((m) => m.name));
  const retainMetrics = [
    ...(resolved.has('forget_quality') || resolved.has('privleak') ? RETAIN_REFERENCE_METRICS : []), ...(resolved.has('muse_privleak') ? ['muse_mia_min_k'] : []),
  ];
  const retainLogs = retainMetrics.length ? await retainReference(ctx, data, options, retainMetrics) : null;
  // mia_reference's reference model is the retain-only model (open-unlearning: reference_model_path = retain90)
  const reference = resolved.has('mia_reference') && config.eval.retainModel
    ? await loadRunModel({ ...config, model: { path: config.eval.retainModel, tokenizer: existsSync(path.join(config.eval.retainModel, 'tokenizer.json')) ? undefined : config.model.tokenizer ?? config.model.path } })
    : null;
  let result;
  try {
    result = await evaluateMetrics(names, model, tokenizer, data, {
      ...options,
      retainLogs,
      referenceModel: reference?.model,
      outputPath: folder.eval,
      onProgress: (m) => log.event('eval-progress', { message: m }),
      onWarning: (m) => warn(ctx, m),
    });
  } finally {
    reference?.model.dispose();
  }
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(HEADLINE)) metrics[v] = agg(result.metrics, k);
  log.event('eval', { metrics, seconds: (Date.now() - t0) / 1000, timings: result.timings, warnings: result.warnings, settings: result.settings });
  return { metrics, raw: result.metrics };
}

/** Evaluates model.path (or model.create) with the configured metrics in its own run folder. */
export async function evaluate(config: RunConfigInput, options: RunOptions = {}): Promise<RunResult> {
  return inRunFolder('eval', resolveRunConfig(config, EVAL_DEFAULTS), options, async (ctx) => {
    const { model, tokenizer, source } = await loadRunModel(ctx.config);
    try {
      const started = Date.now();
      const { metrics } = await evaluateModel(ctx, model, tokenizer);
      return { name: ctx.folder.name, method: `eval ${source}`, metrics, seconds: (Date.now() - started) / 1000 };
    } finally {
      model.dispose();
    }
  });
}

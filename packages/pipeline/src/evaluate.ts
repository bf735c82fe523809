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
import { loadTofuSuiteData } from '@unlearn/data';
import {
  evaluateMetrics, parsePythonJson, readRetainLogs, RETAIN_REFERENCE_METRICS, TOFU_METRICS, type EvaluateMetricsOptions,
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
  ctx: RunContext, data: Record<string, unknown>, options: EvaluateMetricsOptions,
): Promise<Record<string, unknown> | null> {
  const { config, log, folder } = ctx;
  if (config.eval.retainEval) return readRetainLogs(config.eval.retainEval);
  const dir = config.eval.retainModel;
  if (!dir) return null;
  if (!existsSync(path.join(dir, 'config.json'))) throw new Error(`eval.retainModel ${dir}: no config.json (a Hugging Face model folder is needed)`);
  const key = createHash('sha256').update(JSON.stringify({ metrics: RETAIN_REFERENCE_METRICS, ...options, onProgress: undefined, onWarning: undefined })).digest('hex').slice(0, 16);
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
  log.info(`eval: retain-only model ${dir}: evaluating ${RETAIN_REFERENCE_METRICS.join(', ')}`);
  const hasTokenizer = existsSync(path.join(dir, 'tokenizer.json'));
  const { model, tokenizer } = await loadRunModel({
    ...config, model: { path: dir, tokenizer: hasTokenizer ? undefined : config.model.tokenizer ?? config.model.path },
  });
  let text: string;
  try {
    const result = await evaluateMetrics(RETAIN_REFERENCE_METRICS, model, tokenizer, data, {
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
  const data = (await loadEvalData(config)) as unknown as Record<string, unknown>;
  const t0 = Date.now();
  const options = await evalOptions(config, ctx.backend?.backend);
  const names = config.eval.metrics ?? TOFU_METRICS;
  const haveRetain = Boolean(config.eval.retainEval || config.eval.retainModel);
  log.info(`eval: ${names.length} metrics, ${(data.forget as unknown[]).length} forget items${haveRetain ? '' : ' (no retain-only model: forget quality will be null)'}`);
  const retainLogs = await retainReference(ctx, data, options);
  const result = await evaluateMetrics(names, model, tokenizer, data, {
    ...options,
    retainLogs,
    outputPath: folder.eval,
    onProgress: (m) => log.event('eval-progress', { message: m }),
    onWarning: (m) => warn(ctx, m),
  });
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

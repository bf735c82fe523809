// `evaluate(config)`: a model with @unlearn/metrics' TOFU suite; eval.json holds the suite's full output
// (open-unlearning's layout), the run summary the headline numbers. The splits come from @unlearn/data's one loader.
import type { GenerativeLM, Tokenizer } from '@unlearn/core';
import { loadTofuSuiteData } from '@unlearn/data';
import { tofuSuite } from '@unlearn/metrics';
import type { RunConfig, RunConfigInput } from './config/schema.js';
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

/** Runs the suite on `model` inside a run (eval.json, `eval` events); returns the headline metrics. */
export async function evaluateModel(ctx: RunContext, model: GenerativeLM, tokenizer: Tokenizer): Promise<EvalOutcome> {
  const { config, log, folder } = ctx;
  const data = await loadEvalData(config);
  const t0 = Date.now();
  log.info(`eval: TOFU suite, ${data.forget.length} forget items${config.eval.retainEval ? '' : ' (no retain-only eval.json: forget quality will be null)'}`);
  const result = await tofuSuite(model, tokenizer, data, {
    retainLogsPath: config.eval.retainEval ?? null,
    maxNewTokens: config.eval.maxNewTokens,
    maxLength: config.data.maxLength,
    outputPath: folder.eval,
    onProgress: (m) => log.event('eval-progress', { message: m }),
    onWarning: (m) => log.event('eval-warning', { message: m }),
  });
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(HEADLINE)) metrics[v] = agg(result.metrics, k);
  log.event('eval', { metrics, seconds: (Date.now() - t0) / 1000, timings: result.timings, warnings: result.warnings });
  return { metrics, raw: result.metrics };
}

/** Evaluates model.path (or model.create) with the TOFU suite in its own run folder. */
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

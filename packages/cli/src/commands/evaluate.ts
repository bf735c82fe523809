// Evaluation of a run's model with @unlearn/metrics' TOFU suite; eval.json holds the suite's full output
// (open-unlearning's layout), the run summary the headline numbers.
import type { CausalLM, Tokenizer } from '@unlearn/core';
import { tofuSuite } from '@unlearn/metrics';
import type { TransformerLM } from '@unlearn/models';
import type { RunConfigInput } from '../config/schema.js';
import { loadSplits } from '../engine/datasets.js';
import { loadTofuSplit } from '@unlearn/data';
import path from 'node:path';
import { loadRunModel } from '../engine/model-io.js';
import type { RunSummary } from '../report/report.js';
import { writeJson } from '../run/run-folder.js';
import type { RunContext } from './context.js';

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

export async function evaluateRun(ctx: RunContext, model: CausalLM, tokenizer: Tokenizer): Promise<EvalOutcome> {
  const { config, log, folder } = ctx;
  const splits = await loadSplits(config.data);
  const need = <T>(rows: T[] | undefined, what: string): T[] => {
    if (!rows) throw new Error(`${path.join(config.data.dir, what)}: missing (the TOFU suite needs it)`);
    return config.eval.maxItems === undefined ? rows : rows.slice(0, config.eval.maxItems);
  };
  const [realAuthors, worldFacts] = await Promise.all([
    loadTofuSplit(config.data.dir, 'real_authors_perturbed'),
    loadTofuSplit(config.data.dir, 'world_facts_perturbed'),
  ]);
  const data = {
    forget: need(splits.forgetPerturbed, `${config.data.forget}_perturbed.json`),
    holdout: need(splits.holdout, `${config.data.holdout ?? 'holdoutNN'}.json`),
    retain: need(splits.retainPerturbed, 'retain_perturbed.json'),
    realAuthors: need(realAuthors, 'real_authors_perturbed.json'),
    worldFacts: need(worldFacts, 'world_facts_perturbed.json'),
  };
  const t0 = Date.now();
  log.info(`eval: TOFU suite, ${data.forget.length} forget items${config.eval.retainEval ? '' : ' (no retain-only eval.json: forget quality will be null)'}`);
  const result = await tofuSuite(model as TransformerLM, tokenizer, data, {
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

/** `unlearn eval`: evaluate model.path. */
export async function evalCommand(ctx: RunContext): Promise<RunSummary> {
  const { model, tokenizer, source } = await loadRunModel(ctx.config);
  try {
    const started = Date.now();
    const { metrics } = await evaluateRun(ctx, model, tokenizer);
    const summary: RunSummary = { name: ctx.folder.name, method: `eval ${source}`, metrics, seconds: (Date.now() - started) / 1000 };
    await writeJson(ctx.folder.summary, summary);
    return summary;
  } finally {
    model.dispose();
  }
}

// The TOFU evaluation (Maini et al. 2024) as open-unlearning runs it (configs/eval/tofu.yaml): the metric names of
// TOFU_METRICS (suites.ts) run by evaluateMetrics, writing one JSON whose keys and per-index layout are
// open-unlearning's TOFU_EVAL.json, so numbers compare side by side:
//   forget_*  on forgetNN_perturbed   retain_* on retain_perturbed   ra_* / wf_* on real_authors / world_facts_perturbed
//   mia_*     forget (forgetNN_perturbed question/answer) vs holdoutNN, AUC with forget = 0, holdout = 1
// forget_quality needs the retain-only model's evaluation (`retainLogsPath` / `retainLogs`, open-unlearning's
// `retain_logs_path`): without it forget_quality is null and a warning says why; privleak then uses AUC_retain = 0.5
// as open-unlearning does.
import type { GenerativeLM, Tokenizer } from '@unlearn/core';
import type { TofuSuiteData } from '@unlearn/data';
import type { EvalSettings, MetricResult } from './define-metric.js';
import { evaluateMetrics, type EvaluateMetricsOptions } from './evaluate-metrics.js';
import { TOFU_METRICS } from './suites.js';

export interface TofuSuiteOptions extends EvaluateMetricsOptions {
  /** A subset of metric names (default: TOFU_METRICS); dependencies are added. */
  metrics?: readonly string[];
}

export interface TofuSuiteResult {
  /** The TOFU_EVAL.json object: metric name → { agg_value, value_by_index, … }. */
  metrics: Record<string, MetricResult>;
  settings: EvalSettings;
  /** Wall time per phase in ms (teacher-forced passes per split, generation per split, …). */
  timings: Record<string, number>;
  warnings: string[];
}

/** Runs TOFU's metrics on `model`; see the file comment for what each key holds. */
export async function tofuSuite(
  model: GenerativeLM, tokenizer: Tokenizer, data: TofuSuiteData, options: TofuSuiteOptions = {},
): Promise<TofuSuiteResult> {
  return evaluateMetrics(options.metrics ?? TOFU_METRICS, model, tokenizer, data as unknown as Record<string, unknown>, options);
}

export type { MetricResult };

// Metrics as registered core `Metric`s (open-unlearning's METRIC_REGISTRY + `pre_compute`): each declares the data it
// reads and the metrics whose results it consumes; `evaluateMetrics` (evaluate-metrics.ts) resolves the graph and
// runs each metric once. `defineMetric` builds one and registers it under its name (`get('metric', name)()`).
import { register, specificationVersion, type GenerativeLM, type Metric, type MetricContext, type Tokenizer } from '@unlearn/core';
import type { Boundary, PromptFormatter } from '@unlearn/data';

/** One metric entry as open-unlearning writes it in TOFU_EVAL.json. */
export interface MetricResult {
  agg_value: number | null;
  value_by_index?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** Every setting that changes a number; recorded in eval.json as `eval_settings`. */
export interface EvalSettings {
  /** Rows per teacher-forced forward. */
  batchSize: number;
  /** Prompts per batched generation. */
  generationBatchSize: number;
  /** Greedy tokens per answer (ROUGE). */
  maxNewTokens: number;
  /** Tokens per sequence (prompt + answer); undefined = no limit. */
  maxLength?: number;
  /** Min-K% / Min-K%++ fraction. */
  k: number;
  /** The template's name ('plain', 'llama2-inst', 'chat', or 'custom' for a caller's formatter). */
  template: string;
  boundary: Boundary;
  /** Anything else the caller wants on record (backend, precision, system prompt, …). */
  [key: string]: unknown;
}

/** What a metric sees: the model, its tokenizer, the data, the results of the metrics it depends on, and shared passes. */
export interface EvalContext extends MetricContext {
  model: GenerativeLM;
  tokenizer: Tokenizer;
  data: Record<string, unknown>;
  /** Every result computed so far (dependencies are guaranteed to be here). */
  results: Record<string, MetricResult>;
  settings: EvalSettings;
  formatter: PromptFormatter;
  /** The retain-only model's evaluation (open-unlearning `reference_logs.retain_model_logs`), when there is one. */
  retainLogs: Record<string, unknown> | null;
  /** A reference model (mia_reference: the retain-only model), when there is one. */
  referenceModel?: GenerativeLM;
  /** Memoized shared passes (teacher-forced statistics, generations) keyed by what they computed. */
  memo: Map<string, Promise<unknown>>;
  warn(message: string): void;
  progress(message: string): void;
  /** Adds `f`'s wall time to timings[name]. */
  timed<T>(name: string, f: () => Promise<T>): Promise<T>;
}

export interface MetricSpec {
  name: string;
  /** One line for `unlearn list` and errors. */
  description: string;
  /** Keys of `data` this metric reads (checked before any model work). */
  data?: readonly string[];
  /** Metrics whose results this one reads (open-unlearning `pre_compute`); they run first. */
  dependsOn?: readonly string[];
  compute(ctx: EvalContext): Promise<MetricResult> | MetricResult;
}

/** A registered evaluation metric: a core Metric plus the data it reads. */
export interface EvalMetric extends Metric<MetricResult> {
  readonly description: string;
  readonly data: readonly string[];
  readonly dependsOn: readonly string[];
  compute(ctx: EvalContext): Promise<MetricResult>;
}

/** Builds an EvalMetric from `spec` and registers it as `spec.name` (replacing a metric of that name when `override`). */
export function defineMetric(spec: MetricSpec, options: { register?: boolean; override?: boolean } = {}): EvalMetric {
  const metric: EvalMetric = {
    name: spec.name,
    specificationVersion,
    description: spec.description,
    data: spec.data ?? [],
    dependsOn: spec.dependsOn ?? [],
    compute: async (ctx) => spec.compute(ctx),
  };
  if (options.register ?? true) register('metric', spec.name, () => metric, { override: options.override ?? true });
  return metric;
}

export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
export const byIndex = <T>(values: readonly T[], f: (v: T, i: number) => Record<string, unknown>): Record<string, Record<string, unknown>> =>
  Object.fromEntries(values.map((v, i) => [String(i), f(v, i)]));

/** The dependency's result; throws naming both metrics if it is missing (the runner always provides it). */
export function dependency(ctx: EvalContext, self: string, name: string): MetricResult {
  const r = ctx.results[name];
  if (!r) throw new Error(`metric ${self}: the result of ${name} is missing (declare it in dependsOn)`);
  return r;
}

/** `data[key]` as rows; throws naming the metric and the key when it is absent or empty. */
export function rowsOf<T>(ctx: EvalContext, self: string, key: string): T[] {
  const rows = ctx.data[key];
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`metric ${self}: data.${key} has no rows`);
  return rows as T[];
}

export type { GenerativeLM, Tokenizer };

// Runs registered metrics by name (open-unlearning's Evaluator): resolves `dependsOn` depth-first (each metric once,
// dependencies first, a cycle is an error), checks every metric's data before any model work, shares one memo of
// teacher-forced passes and generations, and returns (and optionally writes, atomically) open-unlearning's layout —
// metric name → { agg_value, value_by_index, … } for every metric computed, dependencies included — with the settings
// that shaped the numbers under `eval_settings`.
import path from 'node:path';
import { get, type Metric, type Tokenizer, type GenerativeLM } from '@unlearn/core';
import { templateFormatter, type Boundary, type PromptFormatter, type TemplateSettings } from '@unlearn/data';
import { writeFileAtomic } from '@unlearn/tensors';
import type { EvalContext, EvalSettings, MetricResult } from './define-metric.js';
import { MIN_K_DEFAULT } from './mia-min-k.js';
import { readRetainLogs } from './retain-logs.js';
import './register.js';

export interface EvaluateMetricsOptions {
  /** Rows per teacher-forced forward (default 32, open-unlearning's eval batch size). */
  batchSize?: number;
  /** Prompts per batched generation (default: batchSize). */
  generationBatchSize?: number;
  /** Greedy tokens per answer for ROUGE (default 200, open-unlearning's generation default). */
  maxNewTokens?: number;
  /** Tokens per sequence (default: min(512, the model's max_position_embeddings), open-unlearning's max_length 512). */
  maxLength?: number;
  /** Min-K% / Min-K%++ fraction (default 0.4). */
  k?: number;
  /** Named template and boundary rule (default plain, project boundary). */
  template?: TemplateSettings;
  /** A prompt format of your own instead of `template.template` (recorded as 'custom'). */
  formatter?: PromptFormatter;
  /** The retain-only model's evaluation, parsed … */
  retainLogs?: Record<string, unknown> | null;
  /** … or its file (this package's eval.json or open-unlearning's TOFU_EVAL.json). */
  retainLogsPath?: string | null;
  /** Reference model for mia_reference. */
  referenceModel?: GenerativeLM;
  /** More settings to record in eval_settings (backend, precision, …). */
  record?: Record<string, unknown>;
  /** Write the result here (atomically). */
  outputPath?: string;
  onProgress?: (message: string) => void;
  /** Default: console.warn. */
  onWarning?: (message: string) => void;
}

export interface EvaluateMetricsResult {
  metrics: Record<string, MetricResult>;
  settings: EvalSettings;
  /** Wall time per phase in ms. */
  timings: Record<string, number>;
  warnings: string[];
}

interface Resolved {
  name: string;
  metric: Metric<MetricResult> & { data?: readonly string[] };
}

/** `names` and everything they depend on, dependencies first; unknown names fail with the registered ones. */
export function resolveMetrics(names: readonly string[]): Resolved[] {
  const order: Resolved[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`metrics: dependency cycle ${[...trail, name].join(' -> ')}`);
    state.set(name, 'visiting');
    const metric = get('metric', name)() as Resolved['metric'];
    for (const dep of metric.dependsOn ?? []) visit(dep, [...trail, name]);
    state.set(name, 'done');
    order.push({ name, metric });
  };
  for (const n of names) visit(n, []);
  return order;
}

/** Runs `names` (and their dependencies) on `model`; see the file comment. */
export async function evaluateMetrics(
  names: readonly string[], model: GenerativeLM, tokenizer: Tokenizer, data: Record<string, unknown>, options: EvaluateMetricsOptions = {},
): Promise<EvaluateMetricsResult> {
  if (names.length === 0) throw new Error('evaluateMetrics: no metric names given');
  const resolved = resolveMetrics(names);
  for (const { name, metric } of resolved) {
    for (const key of metric.data ?? []) {
      const rows = data[key];
      if (!Array.isArray(rows) || rows.length === 0) throw new Error(`metric ${name}: needs data.${key} (rows), which is ${rows === undefined ? 'missing' : 'empty'}`);
    }
  }
  const retainLogs = options.retainLogs ?? (options.retainLogsPath ? await readRetainLogs(options.retainLogsPath) : null);

  const positions = model.config.max_position_embeddings;
  const batchSize = options.batchSize ?? 32;
  const boundary: Boundary = options.template?.boundary ?? 'project';
  const settings: EvalSettings = {
    batchSize,
    generationBatchSize: options.generationBatchSize ?? batchSize,
    maxNewTokens: options.maxNewTokens ?? 200,
    maxLength: options.maxLength ?? (typeof positions === 'number' ? Math.min(512, positions) : 512),
    k: options.k ?? MIN_K_DEFAULT,
    template: options.formatter ? 'custom' : options.template?.template ?? 'plain',
    boundary,
    ...(options.template?.template === 'chat'
      ? { systemPrompt: options.template.systemPrompt ?? null, dateString: options.template.dateString ?? null, chatTemplate: options.template.chatTemplate === undefined ? 'tokenizer' : 'custom' }
      : {}),
    decoding: 'greedy',
    ...options.record,
  };
  const formatter = options.formatter ?? templateFormatter(tokenizer, options.template);
  const warnings: string[] = [];
  const timings: Record<string, number> = {};
  const metrics: Record<string, MetricResult> = {};
  const ctx: EvalContext = {
    model, tokenizer, data, results: metrics, settings, formatter, retainLogs, referenceModel: options.referenceModel,
    memo: new Map(),
    warn: (m) => {
      if (warnings.includes(m)) return;
      warnings.push(m);
      (options.onWarning ?? ((x: string) => console.warn(x)))(m);
    },
    progress: options.onProgress ?? (() => {}),
    timed: async (name, f) => {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        timings[name] = (timings[name] ?? 0) + (performance.now() - t0);
      }
    },
  };
  for (const { name, metric } of resolved) {
    ctx.progress(`metric ${name}`);
    metrics[name] = await metric.compute(ctx);
  }
  if (options.outputPath) {
    await writeFileAtomic(path.resolve(options.outputPath), `${JSON.stringify({ ...metrics, eval_settings: settings }, null, 2)}\n`);
  }
  return { metrics, settings, timings, warnings };
}

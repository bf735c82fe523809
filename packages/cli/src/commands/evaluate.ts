// Evaluation of a run's model with @unlearn/metrics' TOFU suite; eval.json holds the suite's full output
// (open-unlearning's layout), the run summary the headline numbers.
import type { CausalLM, Tokenizer } from '@unlearn/core';
import { tofuSuite } from '@unlearn/metrics';
import type { TransformerLM } from '@unlearn/models';
import type { RunConfigInput } from '../config/schema.js';
import { loadSplits } from '../engine/datasets.js';
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
  const t0 = Date.now();
  log.info(`eval: TOFU suite on ${config.data.forget} / ${config.data.retain}${config.eval.retainEval ? '' : ' (no retain-only eval.json: forget quality will be null)'}`);
  const raw = (await tofuSuite(model as TransformerLM, tokenizer, {
    dir: config.data.dir,
    forget: splits.forget,
    forgetPerturbed: splits.forgetPerturbed,
    retain: splits.retain,
    retainPerturbed: splits.retainPerturbed,
    holdout: splits.holdout,
  }, {
    retainLogs: config.eval.retainEval,
    maxItems: config.eval.maxItems,
    generate: config.eval.generate,
    maxNewTokens: config.eval.maxNewTokens,
    onWarning: (m: string) => log.info(`eval: ${m}`),
  })) as unknown as Record<string, unknown>;
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(HEADLINE)) metrics[v] = agg(raw, k);
  await writeJson(folder.eval, raw);
  log.event('eval', { metrics, seconds: (Date.now() - t0) / 1000 });
  return { metrics, raw };
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

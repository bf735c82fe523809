// `finetune(config)`: next-token NLL on the answers of a QA split (TOFU's fine-tuning recipe) — how the target model
// (on `full`) and the retain-only model (on `retainNN`) of an unlearning benchmark are made. The Trainer sees
// fine-tuning batches ({ train }), not a forget set.
import path from 'node:path';
import { get } from '@unlearn/core';
import { defaultPadTokenId, planTokenBatches } from '@unlearn/data';
import type { RunConfig, RunConfigInput } from './config/schema.js';
import { encodeRows, loadSplits } from './datasets.js';
import { evalTemplate } from './eval-template.js';
import { loadRunModel } from './model-io.js';
import type { RunSummary } from './report/report.js';
import { saveAndEvaluate } from './run/save-and-evaluate.js';
import { inRunFolder, resolveRunConfig, type RunContext, type RunOptions, type RunResult } from './run/run.js';
import { planSteps, runCheckpoints, runTrainLoop } from './train-loop.js';

/** What `finetune` fills in under the caller's config. */
export const FINETUNE_DEFAULTS: RunConfigInput = {
  optimizer: { name: 'adamw', lr: 1e-3 },
  training: { epochs: 5, batchSize: 8 },
  eval: { enabled: false },
};

/** The configured optimizer, from the registry. */
export function optimizerFor(config: RunConfig) {
  return get('optimizer', config.optimizer.name)({ lr: config.optimizer.lr, ...config.optimizer.options });
}

/** Fine-tunes `model` (model.path or model.create) on `data.train`, saves it to checkpoint/, evaluates when eval.enabled. */
export async function finetune(config: RunConfigInput, options: RunOptions = {}): Promise<RunResult> {
  return inRunFolder('finetune', resolveRunConfig(config, FINETUNE_DEFAULTS), options, finetuneRun);
}

async function finetuneRun(ctx: RunContext): Promise<RunSummary> {
  const { config, log, folder } = ctx;
  const { model, tokenizer, source } = await loadRunModel(config);
  const optimizer = optimizerFor(config);
  try {
    const splits = await loadSplits(config.data, { train: true });
    const maxLength = config.data.maxLength!; // filled by preflight
    const examples = await encodeRows(tokenizer, splits.train, maxLength, path.join(config.data.dir, `${config.data.train}.json`), evalTemplate(config));
    const batching = { batchSize: config.training.batchSize, seed: config.training.seed, shuffle: true, padTokenId: defaultPadTokenId(tokenizer) };
    const perEpoch = planTokenBatches(examples, { ...batching, epochs: 1 }).indices.length;
    const { steps, passes } = planSteps(config.training, perEpoch);
    const plan = planTokenBatches(examples, { ...batching, epochs: passes });
    log.info(`finetune ${source} on ${config.data.train} (${examples.length} examples, ${perEpoch} steps per epoch, ${steps} steps, ${config.optimizer.name} lr ${config.optimizer.lr})`);
    const result = await runTrainLoop({
      label: 'finetune', model, optimizer, log, seed: config.training.seed,
      batches: { steps, batch: (i) => ({ train: plan.batch(i) }) },
      lr: config.optimizer.lr, schedule: config.training.schedule, warmupSteps: config.training.warmupSteps, clipNorm: config.training.clipNorm,
      checkpoint: await runCheckpoints(config.training, folder.checkpoints, model, tokenizer, ctx.resumed), resume: ctx.resumed,
    });
    const summary: RunSummary = {
      name: folder.name, method: `finetune + ${config.optimizer.name}`, objective: 'nll', optimizer: config.optimizer.name,
      lr: config.optimizer.lr, seed: config.training.seed, steps: result.steps, seconds: result.seconds, metrics: {}, losses: result.losses,
      batchSize: config.training.batchSize, stepsPerEpoch: perEpoch, epochs: steps / perEpoch,
      ...(result.stopped ? { stopped: result.stopped } : {}),
    };
    return await saveAndEvaluate(ctx, model, tokenizer, summary);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

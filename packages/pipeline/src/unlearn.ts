// `unlearn(config)`: forget the forget split from a fine-tuned model with any registered objective × optimizer
// (× mask), keeping the retain split; then evaluate and report.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Mask, TokenBatch } from '@unlearn/core';
import { get } from '@unlearn/core';
import { collate, defaultPadTokenId, idkAlternates, loadIdkAnswers, planUnlearnBatches, type EncodedExample } from '@unlearn/data';
import { exampleSetCurvature } from '@unlearn/optim';
import type { RunConfigInput } from './config/schema.js';
import { encodeRows, loadSplits } from './datasets.js';
import { evalTemplate } from './eval-template.js';
import { optimizerFor } from './finetune.js';
import { buildMask } from './mask-data.js';
import { loadRunModel } from './model-io.js';
import type { RunSummary } from './report/report.js';
import { saveAndEvaluate } from './run/save-and-evaluate.js';
import { inRunFolder, resolveRunConfig, type RunContext, type RunOptions, type RunResult } from './run/run.js';
import { planSteps, runCheckpoints, runTrainLoop } from './train-loop.js';

/** What `unlearn` fills in under the caller's config (the schema's own defaults: npo + sophia). */
export const UNLEARN_DEFAULTS: RunConfigInput = {};

/** "npo + sophia (gnb) + wagle 50%": what the report groups runs by. */
export function methodName(config: { objective: { name: string }; optimizer: { name: string; options: Record<string, unknown> }; mask?: { name: string; keep: number } }): string {
  const o = config.optimizer;
  const variant = typeof o.options.estimator === 'string' ? `-${o.options.estimator}` : '';
  const mask = config.mask ? ` + ${config.mask.name} ${Math.round(config.mask.keep * 100)}%` : '';
  return `${config.objective.name} + ${o.name}${variant}${mask}`;
}

/** The paper default β of objectives that have one (DESIGN: NPO β = 0.1, SimNPO β = 4.5), for the report. */
function objectiveBeta(name: string): number | undefined {
  return ({ npo: 0.1, simnpo: 4.5, idkdpo: 0.1 } as Record<string, number>)[name];
}

/** Unlearns `data.forget` from model.path with the configured objective × optimizer (× mask), saves, evaluates. */
export async function unlearn(config: RunConfigInput, options: RunOptions = {}): Promise<RunResult> {
  return inRunFolder('unlearn', resolveRunConfig(config, UNLEARN_DEFAULTS), options, unlearnRun);
}

async function unlearnRun(ctx: RunContext): Promise<RunSummary> {
  const { config, log, folder } = ctx;
  const { model, tokenizer, source } = await loadRunModel(config);
  const objective = get('objective', config.objective.name)(config.objective.options);
  const optimizer = optimizerFor(config);
  let mask: Mask | undefined;
  let sets: { forget?: ReturnType<typeof exampleSetCurvature>; retain?: ReturnType<typeof exampleSetCurvature> } | undefined;
  let setBatches: TokenBatch[] = [];
  try {
    const splits = await loadSplits(config.data);
    const maxLength = config.data.maxLength!; // filled by preflight
    const split = (name: string) => path.join(config.data.dir, `${name}.json`);
    const forget = await encodeRows(tokenizer, splits.forget, maxLength, split(config.data.forget), evalTemplate(config));
    const needs = optimizer.needs ?? {};
    const retain = objective.needs.retain || config.mask || needs.retainSet ? await encodeRows(tokenizer, splits.retain, maxLength, split(config.data.retain), evalTemplate(config)) : undefined;
    let alternate;
    if (objective.needs.alternate) {
      const refusals = await loadIdkAnswers(path.join(config.data.dir, 'idontknow.jsonl'));
      alternate = await encodeRows(tokenizer, idkAlternates(splits.forget, refusals, config.training.seed), maxLength, path.join(config.data.dir, 'idontknow.jsonl'), evalTemplate(config));
    }
    const padTokenId = defaultPadTokenId(tokenizer);
    const batching = {
      forget, retain: objective.needs.retain ? retain : undefined, alternate,
      batchSize: config.training.batchSize, seed: config.training.seed, shuffle: true, padTokenId,
    };
    const perEpoch = planUnlearnBatches({ ...batching, epochs: 1 }).steps;
    const { steps, passes } = planSteps(config.training, perEpoch);
    const plan = planUnlearnBatches({ ...batching, epochs: passes });

    if (config.mask) {
      const t0 = Date.now();
      mask = await buildMask(model, config.mask, forget, retain, { batchSize: config.training.batchSize, padTokenId });
      log.info(`mask ${config.mask.name}: keep ${config.mask.keep} of weights (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }

    // whole sets for an optimizer that declares it needs them (influence unlearning), batched like the steps
    const size = config.training.batchSize;
    const batchesOf = (ex: EncodedExample[]): TokenBatch[] => {
      const out: TokenBatch[] = [];
      for (let i = 0; i < ex.length; i += size) out.push(collate(ex.slice(i, i + size), { padTokenId }));
      return out;
    };
    if (needs.forgetSet || needs.retainSet) {
      const retainRows = typeof needs.retainSet === 'object' ? retain!.slice(0, needs.retainSet.examples) : retain!;
      setBatches = [...(needs.forgetSet ? batchesOf(forget) : []), ...(needs.retainSet ? batchesOf(retainRows) : [])];
      const forgetCount = needs.forgetSet ? Math.ceil(forget.length / size) : 0;
      sets = {
        ...(needs.forgetSet ? { forget: exampleSetCurvature(model, setBatches.slice(0, forgetCount)) } : {}),
        ...(needs.retainSet ? { retain: exampleSetCurvature(model, setBatches.slice(forgetCount)) } : {}),
      };
      log.info(`${optimizer.name}: the whole forget set (${forget.length} examples) and ${retainRows.length} retain examples`);
    }

    log.info(`unlearn ${config.data.forget} from ${source}: ${objective.name} + ${optimizer.name}, ${steps} steps (${perEpoch} per epoch), lr ${config.optimizer.lr}`);
    const result = await runTrainLoop({
      label: 'unlearn', model, objective, optimizer, log, mask, seed: config.training.seed,
      batches: { steps, batch: (i) => plan.batch(i) },
      lr: config.optimizer.lr, schedule: config.training.schedule, warmupSteps: config.training.warmupSteps, clipNorm: config.training.clipNorm,
      sets, checkpoint: await runCheckpoints(config.training, folder.checkpoints, model, tokenizer, ctx.resumed), resume: ctx.resumed,
    });
    const beta = config.objective.options.beta ?? objectiveBeta(config.objective.name);
    const summary: RunSummary = {
      name: folder.name, method: methodName(config), objective: objective.name, optimizer: optimizer.name, mask: config.mask?.name,
      lr: config.optimizer.lr, seed: config.training.seed, steps: result.steps, seconds: result.seconds, metrics: {}, losses: result.losses,
      optimizerStats: result.optimizerStats, batchSize: config.training.batchSize, stepsPerEpoch: perEpoch, epochs: steps / perEpoch,
      ...(typeof beta === 'number' ? { beta } : {}),
      forgotten: `${config.data.forget} (${config.data.forgetAuthors ? `first ${config.data.forgetAuthors} authors, ` : ''}${forget.length} QA pairs)`,
      ...(result.stopped ? { stopped: result.stopped } : {}),
    };
    return await saveAndEvaluate(ctx, model, tokenizer, summary);
  } finally {
    if (mask) tf.dispose([...mask.values()]);
    sets?.forget?.dispose();
    sets?.retain?.dispose();
    for (const b of setBatches) tf.dispose([b.inputIds, b.attentionMask, b.labels]);
    optimizer.dispose();
    model.dispose();
  }
}

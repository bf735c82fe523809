// `attack(config)`: does the forgetting of an unlearned model survive? Three attacks, each re-measured with the same
// TOFU suite (`evaluateModel`) the unlearning run was scored with, before and after:
//   relearn  — k fine-tuning steps on a small set (targeted: a seeded slice of the forget set; benign: retain rows),
//              on the unlearned model AND on its retain-only model, same rows, same order, same seed; the suite at
//              steps 0, k/4, k/2, k; R (OpenUnlearning) per knowledge metric from the two recovery curves.
//   quantize — the Linear weights through int8 / int4 / NF4 round trips (@unlearn/robustness); Q per metric.
//   prefix   — prompt attacks on the forget questions (answer prefix, instruction wrappers, paraphrases); forget
//              probability and ROUGE-L recall under each, for both models.
// Writes attack.json (every number), attack.md / attack.html and recovery.svg into the run folder. Inputs are checked
// before anything is written: a missing retain-only partner (required for relearn), mismatched tokenizers and a model
// that no unlearn run produced are one-line errors or warnings that name the file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { get, type Tokenizer } from '@unlearn/core';
import { defaultPadTokenId, planTokenBatches, type QaRow } from '@unlearn/data';
import { loadModel, type TransformerLM } from '@unlearn/models';
import {
  evaluatePromptAttack, promptAttack, quantizationScore, quantizeParams, quantizerLabel, relearnCheckpoints, relearningScore,
  seededSlice, type QuantizerSpec,
} from '@unlearn/robustness';
import { Trainer } from '@unlearn/train';
import { attackSchema, type AttackConfig } from './config/attack-schema.js';
import type { RunConfig, RunConfigInput } from './config/schema.js';
import { encodeRows, loadSplits } from './datasets.js';
import { evalOptions, evaluateModel, loadEvalData } from './evaluate.js';
import { evalTemplate } from './eval-template.js';
import { loadRunModel } from './model-io.js';
import { writeAttackReport } from './report/attack-report.js';
import type { RunSummary } from './report/report.js';
import { writeJson } from './run/run-folder.js';
import { inRunFolder, resolveRunConfig, type RunContext, type RunOptions, type RunResult } from './run/run.js';

/** What `attack` fills in under the caller's config. */
export const ATTACK_DEFAULTS: RunConfigInput = { attack: {} };

/** Knowledge metrics (higher = more of the forget set known): the ones relearning recovers and R is computed on. */
export const KNOWLEDGE_METRICS = ['forgetProb', 'forgetProbHeldOut', 'forgetRougeL', 'extractionStrength'] as const;

type Metrics = Record<string, number | null>;

export interface CurvePoint {
  step: number;
  metrics: Metrics;
}

export interface AttackOutcome {
  kind: AttackConfig['kind'];
  model: string;
  retainModel: string | null;
  settings: AttackConfig[keyof Omit<AttackConfig, 'kind'>];
  warnings: string[];
  /** relearn: the suite after each checkpoint step, per model. */
  curves?: { unlearned: CurvePoint[]; retainOnly: CurvePoint[]; relearnRows: number[] | null };
  /** quantize / prefix: one row per variant (fp32 / none first). */
  variants?: { name: string; unlearned: Metrics; retainOnly?: Metrics; details?: Record<string, unknown> }[];
  /** Q (per method and metric), R (per metric), HM(Q, R) where both exist. */
  scores: Record<string, number | null>;
}

export type AttackResult = RunResult & { attack: AttackOutcome };
export { attackSchema, type AttackConfig };

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** tokenizer.json's vocabulary and added tokens, for comparing two tokenizers whose files differ byte-wise. */
function vocabularyOf(file: string): { size: number; key: string } {
  const t = JSON.parse(readFileSync(file, 'utf8')) as { model?: { vocab?: unknown; merges?: unknown }; added_tokens?: unknown };
  const vocab = t.model?.vocab ?? {};
  const size = Array.isArray(vocab) ? vocab.length : Object.keys(vocab as object).length;
  return { size, key: JSON.stringify([vocab, t.model?.merges ?? null, t.added_tokens ?? null]) };
}

/** The unlearn run that produced `modelDir` (its folder or the folder above holds an unlearn run's config + summary). */
function unlearnRunOf(modelDir: string): string | null {
  for (const dir of [modelDir, path.dirname(modelDir)]) {
    const cfg = path.join(dir, 'config.yaml');
    if (existsSync(path.join(dir, 'summary.json')) && existsSync(cfg) && /^command: unlearn$/m.test(readFileSync(cfg, 'utf8'))) return dir;
  }
  return null;
}

/** Checks the inputs before a run folder exists: throws one line per fatal problem, returns warnings. */
export function checkAttackInputs(config: RunConfig): string[] {
  const kind = config.attack?.kind ?? 'relearn';
  const modelDir = config.model.path;
  if (!modelDir) throw new Error(`attack ${kind}: model.path: is required (the unlearned model's folder, e.g. runs/<unlearn run>/checkpoint)`);
  if (!existsSync(path.join(modelDir, 'config.json'))) throw new Error(`${path.join(modelDir, 'config.json')}: not found (model.path must be a Hugging Face model folder)`);
  const warnings: string[] = [];
  if (!unlearnRunOf(modelDir)) {
    warnings.push(`${modelDir}: no unlearn run here (no summary.json + config.yaml with "command: unlearn" in it or its parent); attacking a model that may never have been unlearned`);
  }
  const retain = config.eval.retainModel;
  if (!retain) {
    if (kind === 'relearn') throw new Error('attack relearn: eval.retainModel: missing — the retain-only model folder (fine-tuned without the forget set) is needed to compute R');
    warnings.push(`attack ${kind}: no eval.retainModel (the retain-only model): no retain-only baseline and forget quality is null`);
    return warnings;
  }
  if (!existsSync(path.join(retain, 'config.json'))) throw new Error(`${path.join(retain, 'config.json')}: not found (eval.retainModel must be the retain-only model's folder)`);
  const mine = path.join(config.model.tokenizer ?? modelDir, 'tokenizer.json');
  const theirs = path.join(retain, 'tokenizer.json');
  for (const f of [mine, theirs]) if (!existsSync(f)) throw new Error(`${f}: not found (cannot check that both models share one tokenizer)`);
  if (sha256(mine) !== sha256(theirs)) {
    const [a, b] = [vocabularyOf(mine), vocabularyOf(theirs)];
    if (a.key !== b.key) throw new Error(`${theirs}: a different tokenizer (${b.size} tokens) from ${mine} (${a.size} tokens); the retain-only model must share the unlearned model's tokenizer`);
    warnings.push(`${theirs}: differs byte-wise from ${mine} but has the same vocabulary, merges and added tokens`);
  }
  return warnings;
}

/** Runs an attack on model.path (the unlearned model) with eval.retainModel as its retain-only partner. */
export async function attack(config: RunConfigInput, options: RunOptions = {}): Promise<AttackResult> {
  const resolved = resolveRunConfig(config, ATTACK_DEFAULTS);
  const settings = attackSchema.parse(resolved.attack ?? {});
  const full: RunConfig = { ...resolved, attack: settings };
  const warnings = checkAttackInputs(full);
  if (settings.kind === 'prefix') for (const name of settings.prefix.attacks) promptAttack(name); // unknown names fail here
  let outcome!: AttackOutcome;
  const result = await inRunFolder('attack', full, options, async (ctx) => {
    for (const w of warnings) ctx.log.info(`warning: ${w}`);
    const started = Date.now();
    await mkdir(path.join(ctx.folder.dir, 'attack'), { recursive: true });
    outcome = settings.kind === 'relearn' ? await relearnAttack(ctx, settings, warnings)
      : settings.kind === 'quantize' ? await quantizeAttack(ctx, settings, warnings)
      : await prefixAttack(ctx, settings, warnings);
    await writeJson(path.join(ctx.folder.dir, 'attack.json'), outcome);
    const report = await writeAttackReport(ctx.folder.dir, outcome);
    ctx.log.info(`attack ${settings.kind}: ${report.markdown}`);
    const last = finalMetrics(outcome);
    const summary: RunSummary = {
      name: ctx.folder.name, method: `attack ${settings.kind}`, seconds: (Date.now() - started) / 1000,
      steps: settings.kind === 'relearn' ? settings.relearn.steps : undefined,
      metrics: { ...last, ...outcome.scores },
    };
    return summary;
  });
  return { ...result, attack: outcome };
}

/** The unlearned model's metrics after the attack (relearn: the last checkpoint; otherwise the strongest variant). */
function finalMetrics(o: AttackOutcome): Metrics {
  if (o.curves) return o.curves.unlearned[o.curves.unlearned.length - 1].metrics;
  const vs = o.variants ?? [];
  const worst = vs.slice(1).reduce<typeof vs[number] | undefined>((best, v) => (!best || (v.unlearned.forgetProb ?? -1) > (best.unlearned.forgetProb ?? -1) ? v : best), undefined);
  return (worst ?? vs[0])?.unlearned ?? {};
}

/**
 * The suite on `model`, its eval.json written to attack/<file>; adds forgetProbHeldOut (mean over rows not in
 * `exclude`). Forget quality compares with eval.retainModel's (or eval.retainEval's) reference, which evaluateModel
 * computes once from the retain-only model's folder and caches: the partner before any attack.
 */
async function evalInto(ctx: RunContext, file: string, model: TransformerLM, tokenizer: Tokenizer, exclude: readonly number[] | null): Promise<Metrics> {
  const { metrics, raw } = await evaluateModel({ ...ctx, folder: { ...ctx.folder, eval: path.join(ctx.folder.dir, 'attack', file) } }, model, tokenizer);
  const out: Metrics = { ...metrics };
  const byIndex = (raw.forget_Q_A_Prob as { value_by_index?: Record<string, { prob?: number }> } | undefined)?.value_by_index;
  if (byIndex && exclude) {
    const skip = new Set(exclude.map(String));
    const kept = Object.entries(byIndex).filter(([i]) => !skip.has(i)).map(([, v]) => v.prob).filter((p): p is number => typeof p === 'number');
    out.forgetProbHeldOut = kept.length ? kept.reduce((s, x) => s + x, 0) / kept.length : null;
  }
  return out;
}

async function loadPartner(ctx: RunContext): Promise<TransformerLM | null> {
  return ctx.config.eval.retainModel ? loadModel(ctx.config.eval.retainModel) : null;
}

// --- relearn ---------------------------------------------------------------------------------------------------------

async function relearnAttack(ctx: RunContext, settings: AttackConfig, warnings: string[]): Promise<AttackOutcome> {
  const { config, log } = ctx;
  const r = settings.relearn;
  const checkpoints = relearnCheckpoints(r.steps, r.checkpoints);
  const { model, tokenizer } = await loadRunModel(config);
  const evalForget = (await loadEvalData(config)).forget;
  let rows: QaRow[];
  let slice: number[] | null = null;
  if (r.set === 'targeted') {
    slice = seededSlice(evalForget.length, r.items, r.seed);
    rows = slice.map((i) => ({ question: evalForget[i].question, answer: evalForget[i].answer }));
  } else {
    const retainRows = (await loadSplits(config.data)).retain;
    rows = seededSlice(retainRows.length, r.items, r.seed).map((i) => retainRows[i]);
  }
  const examples = await encodeRows(tokenizer, rows, config.data.maxLength!, r.set === 'targeted' ? `${config.data.forget} (relearn slice)` : `${config.data.retain} (relearn rows)`, evalTemplate(config));
  log.info(`relearn (${r.set}): ${rows.length} rows, ${r.steps} steps of ${r.optimizer} lr ${r.lr}, batch ${r.batchSize}, seed ${r.seed}; suite at steps ${checkpoints.join(', ')}`);
  const curves: { unlearned: CurvePoint[]; retainOnly: CurvePoint[] } = { unlearned: [], retainOnly: [] };
  const partner = (await loadPartner(ctx))!;
  try {
    curves.retainOnly = await relearnCurve(ctx, 'retain-only', partner, tokenizer, examples, settings, checkpoints, slice);
  } finally {
    partner.dispose();
  }
  try {
    curves.unlearned = await relearnCurve(ctx, 'unlearned', model, tokenizer, examples, settings, checkpoints, slice);
  } finally {
    model.dispose();
  }
  const scores: Record<string, number | null> = {};
  const [u0, uk] = [curves.unlearned[0].metrics, curves.unlearned[curves.unlearned.length - 1].metrics];
  const [r0, rk] = [curves.retainOnly[0].metrics, curves.retainOnly[curves.retainOnly.length - 1].metrics];
  for (const m of KNOWLEDGE_METRICS) {
    if (!(m in u0)) continue;
    scores[`R_${m}`] = relearningScore({ before: u0[m], after: uk[m] }, { before: r0[m], after: rk[m] });
  }
  log.info(`relearn: forget prob ${fmt(u0.forgetProb)} → ${fmt(uk.forgetProb)} (retain-only ${fmt(r0.forgetProb)} → ${fmt(rk.forgetProb)}); R = ${fmt(scores.R_forgetProb)}`);
  return {
    kind: 'relearn', model: config.model.path!, retainModel: config.eval.retainModel ?? null, settings: r, warnings,
    curves: { ...curves, relearnRows: slice }, scores,
  };
}

const fmt = (x: number | null | undefined) => (typeof x === 'number' ? x.toPrecision(4) : '—');

/** The suite at step 0, then k fine-tuning steps with the suite after each checkpoint step. Same data, seed, order for every model. */
async function relearnCurve(
  ctx: RunContext, label: string, model: TransformerLM, tokenizer: Tokenizer, examples: Awaited<ReturnType<typeof encodeRows>>,
  settings: AttackConfig, checkpoints: number[], slice: number[] | null,
): Promise<CurvePoint[]> {
  const r = settings.relearn;
  const points: CurvePoint[] = [{ step: 0, metrics: await evalInto(ctx, `${label}-step0.json`, model, tokenizer, slice) }];
  const optimizer = get('optimizer', r.optimizer)({ lr: r.lr });
  const epochs = Math.ceil((r.steps * r.batchSize) / examples.length) + 1;
  const plan = planTokenBatches(examples, { batchSize: r.batchSize, epochs, seed: r.seed, shuffle: true, padTokenId: defaultPadTokenId(tokenizer) });
  const trainer = new Trainer({
    model, optimizer, steps: r.steps, seed: r.seed, schedule: () => r.lr,
    data: (i: number) => ({ train: plan.batch(i) }),
    onStep: async (e) => {
      const step = e.step + 1;
      ctx.log.event('step', { label: `relearn ${label}`, step, total: r.steps, loss: e.loss, tokens: e.tokens, seconds: e.seconds, lr: e.lr, gradNorm: e.gradNorm });
      if (checkpoints.includes(step)) points.push({ step, metrics: await evalInto(ctx, `${label}-step${step}.json`, model, tokenizer, slice) });
    },
  });
  try {
    await trainer.run();
  } finally {
    ctx.log.event('progress-end', { label: `relearn ${label}`, seconds: 0, tokens: 0 });
    optimizer.dispose();
  }
  return points;
}

// --- quantize --------------------------------------------------------------------------------------------------------

function quantizerSpecs(q: AttackConfig['quantize']): QuantizerSpec[] {
  return q.methods.map((m) => (m === 'int4' ? { method: 'int4', groupSize: q.groupSize } : m === 'nf4' ? { method: 'nf4', blockSize: q.blockSize } : { method: 'int8' }));
}

async function quantizeAttack(ctx: RunContext, settings: AttackConfig, warnings: string[]): Promise<AttackOutcome> {
  const { config, log } = ctx;
  const q = settings.quantize;
  const { model, tokenizer } = await loadRunModel(config);
  let retainMetrics: Metrics | undefined;
  const partner = await loadPartner(ctx);
  if (partner) {
    try {
      retainMetrics = await evalInto(ctx, 'retain-only-fp32.json', partner, tokenizer, null);
    } finally {
      partner.dispose();
    }
  }
  const original = new Map([...model.params].map(([k, v]) => [k, tf.clone(v)]));
  const variants: NonNullable<AttackOutcome['variants']> = [];
  const scores: Record<string, number | null> = {};
  try {
    const before = await evalInto(ctx, 'unlearned-fp32.json', model, tokenizer, null);
    variants.push({ name: 'fp32', unlearned: before, retainOnly: retainMetrics });
    for (const spec of quantizerSpecs(q)) {
      const label = quantizerLabel(spec);
      const report = await quantizeParams(model.params, spec, { includeEmbeddings: q.includeEmbeddings });
      log.info(`quantize ${label}: ${report.tensors} tensors, ${report.weights} weights, max |ΔW| ${report.maxAbsError.toExponential(2)}, mean ${report.meanAbsError.toExponential(2)}`);
      const after = await evalInto(ctx, `unlearned-${label}.json`, model, tokenizer, null);
      variants.push({ name: label, unlearned: after, details: { ...report } });
      for (const [k, v] of Object.entries(before)) scores[`Q_${label}_${k}`] = quantizationScore(v, after[k]);
      log.info(`quantize ${label}: forget prob ${fmt(before.forgetProb)} → ${fmt(after.forgetProb)}, Q = ${fmt(scores[`Q_${label}_forgetProb`])}`);
      for (const [k, v] of model.params) v.assign(original.get(k)!);
    }
  } finally {
    tf.dispose([...original.values()]);
    model.dispose();
  }
  return { kind: 'quantize', model: config.model.path!, retainModel: config.eval.retainModel ?? null, settings: q, warnings, variants, scores };
}

// --- prefix ----------------------------------------------------------------------------------------------------------

async function prefixAttack(ctx: RunContext, settings: AttackConfig, warnings: string[]): Promise<AttackOutcome> {
  const { config, log } = ctx;
  const names = ['none', ...settings.prefix.attacks.filter((a) => a !== 'none')];
  const { model, tokenizer } = await loadRunModel(config);
  const rows = (await loadEvalData(config)).forget;
  const { batchSize, maxNewTokens, maxLength, template } = await evalOptions(config, ctx.backend?.backend);
  const opts = { batchSize, maxNewTokens, maxLength, template, onWarning: (m: string) => log.event('eval-warning', { message: m }) };
  const run = async (m: TransformerLM) => {
    const out = [];
    for (const name of names) out.push(await evaluatePromptAttack(m, tokenizer, rows, promptAttack(name), opts));
    return out;
  };
  let unlearned;
  try {
    unlearned = await run(model);
  } finally {
    model.dispose();
  }
  const partner = await loadPartner(ctx);
  let retainOnly;
  try {
    retainOnly = partner ? await run(partner) : undefined;
  } finally {
    partner?.dispose();
  }
  const scores: Record<string, number | null> = {};
  const variants = names.map((name, i) => {
    const u = unlearned[i];
    if (i > 0) {
      scores[`Q_${name}_forgetProb`] = quantizationScore(unlearned[0].prob, u.prob);
      scores[`Q_${name}_forgetRougeL`] = quantizationScore(unlearned[0].rougeL, u.rougeL);
    }
    log.info(`prefix ${name}: forget prob ${fmt(u.prob)}, ROUGE-L ${fmt(u.rougeL)}${retainOnly ? ` (retain-only ${fmt(retainOnly[i].prob)}, ${fmt(retainOnly[i].rougeL)})` : ''}`);
    return {
      name,
      unlearned: { forgetProb: u.prob, forgetRougeL: u.rougeL },
      retainOnly: retainOnly ? { forgetProb: retainOnly[i].prob, forgetRougeL: retainOnly[i].rougeL } : undefined,
      details: { items: u.items },
    };
  });
  return { kind: 'prefix', model: config.model.path!, retainModel: config.eval.retainModel ?? null, settings: settings.prefix, warnings, variants, scores };
}


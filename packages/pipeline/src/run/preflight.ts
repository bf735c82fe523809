// Everything a run can check before its first step, checked before its first step: a run that would fail after 20 minutes
// of training (a missing retain eval, a length over the model's positions, a batch that cannot fit in memory) fails
// in a second with one line naming the file or key, and leaves nothing behind. What it checks:
//   paths     model folder (config.json, weights, tokenizer.json), data folder and every split the run reads,
//             eval.retainModel / eval.retainEval
//   bytes     split files are UTF-8; tokenizer.json ids are non-negative integers
//   sizes     data.maxLength ≤ the model's positions (and its default: the model's positions); batch × length ×
//             the model's widths against the memory the backend can use
//   cross     a retain-only eval.json must be of THIS forget split: same item count, same answers
//   options   objective / optimizer options are validated by building them (listing allowed values on error)
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { get } from '@unlearn/core';
import { firstAuthors } from '@unlearn/data';
import { parsePythonJson } from '@unlearn/metrics';
import type { RunConfig } from '../config/schema.js';

export type PreflightCommand = 'finetune' | 'unlearn' | 'eval' | 'attack';

/** What preflight learned that the run uses: the model's config and positions. */
export interface PreflightResult {
  modelConfig: Record<string, unknown>;
  /** The model's context length (max_position_embeddings / n_positions), when its config says. */
  positions?: number;
  /** The memory estimate of one training step, in bytes (0 for eval). */
  stepBytes: number;
}

const fail = (message: string): never => {
  throw new Error(message);
};

function readJson(file: string, what: string, parse: (text: string) => unknown = JSON.parse): unknown {
  if (!existsSync(file)) fail(`${file}: not found (${what})`);
  let text: string;
  try {
    text = readUtf8(file);
  } catch (e) {
    return fail((e as Error).message);
  }
  try {
    return parse(text);
  } catch (e) {
    return fail(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** The file's text; one line naming the file and the byte offset when it is not UTF-8. */
export function readUtf8(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return fail(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = bytes.toString('utf8'); // invalid sequences become U+FFFD: the first one locates the bad byte
    const offset = Buffer.byteLength(text.slice(0, Math.max(0, text.indexOf('\uFFFD'))));
    return fail(`${file}: not UTF-8 text (invalid byte 0x${bytes[offset]?.toString(16).padStart(2, '0')} at byte ${offset})`);
  }
}

/** tokenizer.json: its ids must be non-negative integers (a fractional id is silently truncated by typed arrays). */
export function checkTokenizerIds(file: string): void {
  const tok = readJson(file, 'the tokenizer') as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown; content?: unknown }[] };
  const isId = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const vocab = tok?.model?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (!isId(id)) fail(`${file}: model.vocab[${JSON.stringify(token)}] is ${JSON.stringify(id)}, not a non-negative integer id`);
    }
  } // (a Unigram vocab is a list of [piece, score]: its ids are positions)
  for (const [i, t] of (Array.isArray(tok?.added_tokens) ? tok.added_tokens : []).entries()) {
    if (!isId(t?.id)) fail(`${file}: added_tokens[${i}] (${JSON.stringify(t?.content)}) has id ${JSON.stringify(t?.id)}, not a non-negative integer`);
  }
}

/** The model's context length from its HF config. */
export function positionsOf(config: Record<string, unknown>): number | undefined {
  for (const k of ['max_position_embeddings', 'n_positions', 'n_ctx']) if (typeof config[k] === 'number') return config[k] as number;
  return undefined;
}

const num = (c: Record<string, unknown>, ...keys: string[]) => {
  for (const k of keys) if (typeof c[k] === 'number') return c[k] as number;
  return undefined;
};

/**
 * Bytes one training step needs, roughly: 4 copies of the parameters (weights, gradients, two optimizer moments; a
 * reference copy for NPO/KL), and per token the activations kept for backprop (≈ 12·hidden + 3·intermediate + the
 * attention scores of every head, per layer) and 3 logit-sized rows (logits, softmax, their gradient). A floor, not a
 * bound: it refuses only sizes that certainly cannot fit.
 */
export function stepMemoryBytes(config: Record<string, unknown>, batchSize: number, length: number, reference: boolean): number {
  const hidden = num(config, 'hidden_size', 'n_embd') ?? 0;
  const layers = num(config, 'num_hidden_layers', 'n_layer') ?? 0;
  const inter = num(config, 'intermediate_size', 'n_inner') ?? 4 * hidden;
  const heads = num(config, 'num_attention_heads', 'n_head') ?? 1;
  const vocab = num(config, 'vocab_size') ?? 0;
  const params = vocab * hidden * 2 + layers * (4 * hidden * hidden + 3 * hidden * inter);
  const perToken = layers * (12 * hidden + 3 * inter + heads * length) + 3 * vocab;
  return 4 * (params * (reference ? 5 : 4) + batchSize * length * perToken);
}

/** What the backend can allocate: wasm32's heap stops at 4 GiB; otherwise the machine's memory. */
export function availableBytes(backend: string): number {
  return backend === 'wasm' ? Math.min(4 * 2 ** 30, os.totalmem()) : os.totalmem();
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 2 : 1)} GiB`;

/** Splits the run reads for training, by command. */
function trainingSplits(command: PreflightCommand, config: RunConfig, objectiveNeedsAlternate: boolean): string[] {
  const d = config.data;
  if (command === 'finetune') {
    const subset = d.forgetAuthors !== undefined || d.retainAuthors !== undefined;
    const main = subset && d.train === 'full' ? [d.forget, d.retain] : subset && d.train === d.retain ? [d.retain] : [d.train];
    return [...main, ...d.extraTrain, ...(subset ? [d.forget, d.retain] : [])];
  }
  if (command === 'unlearn') return [d.forget, d.retain, ...(objectiveNeedsAlternate ? ['idontknow.jsonl'] : [])];
  return []; // eval, attack: what the evaluation reads (below)
}

/** A retain-only eval.json must describe this run's forget split: same number of items, same answers in order. */
export function checkRetainEval(file: string, forgetRows: readonly { answer?: unknown }[]): void {
  // Python's json (open-unlearning's TOFU_EVAL.json) writes bare NaN / Infinity
  const evalJson = readJson(file, 'eval.retainEval, the retain-only model\'s eval.json', parsePythonJson) as Record<string, { value_by_index?: Record<string, Record<string, unknown>> }>;
  const ratios = evalJson?.forget_truth_ratio?.value_by_index;
  if (!ratios || typeof ratios !== 'object') fail(`${file}: not a TOFU evaluation (no forget_truth_ratio.value_by_index) — eval.retainEval must be a retain-only model's eval.json`);
  const n = Object.keys(ratios!).length;
  if (n !== forgetRows.length) {
    fail(`${file}: has ${n} forget items, this run's forget split has ${forgetRows.length} — the retain-only model must be evaluated on the same forget split (data.forget, data.forgetAuthors, eval.maxItems)`);
  }
  const rouge = evalJson?.forget_Q_A_ROUGE?.value_by_index;
  if (rouge && typeof rouge === 'object') {
    const norm = (s: unknown) => String(s).trim().replace(/\s+/g, ' ');
    for (const [k, v] of Object.entries(rouge)) {
      const i = Number(k);
      if (!Number.isInteger(i) || i >= forgetRows.length || typeof v?.ground_truth !== 'string') continue;
      if (norm(v.ground_truth) !== norm(forgetRows[i].answer)) {
        fail(`${file}: forget item ${i} has answer ${JSON.stringify(String(v.ground_truth).slice(0, 60))}, this run's forget split ${JSON.stringify(String(forgetRows[i].answer).slice(0, 60))} — an evaluation of another dataset or split`);
      }
    }
  }
}

/** Checks a resolved run config before any work; fills in `data.maxLength` from the model when unset. */
export function preflight(command: PreflightCommand, config: RunConfig, backend: string): PreflightResult {
  const m = config.model;
  // the model
  let modelConfig: Record<string, unknown>;
  let modelWhere: string;
  if (m.create) {
    modelConfig = m.create;
    modelWhere = 'model.create';
  } else {
    if (!m.path) fail('model.path: is required (a Hugging Face folder with config.json and model.safetensors), or set model.create');
    if (!existsSync(m.path!) || !statSync(m.path!).isDirectory()) fail(`${m.path}: model.path is not a folder`);
    modelWhere = path.join(m.path!, 'config.json');
    modelConfig = readJson(modelWhere, 'the model config') as Record<string, unknown>;
    const weights = ['model.safetensors', 'model.safetensors.index.json'].map((f) => path.join(m.path!, f));
    if (!weights.some((f) => existsSync(f))) fail(`${m.path}: no model.safetensors (or model.safetensors.index.json) in the model folder`);
  }
  const tokenizerDir = m.tokenizer ?? m.path;
  if (!tokenizerDir) fail('model.tokenizer: is required with model.create (a folder with tokenizer.json)');
  checkTokenizerIds(path.join(tokenizerDir!, 'tokenizer.json'));

  // sizes
  const positions = positionsOf(modelConfig);
  if (config.data.maxLength === undefined) config.data.maxLength = positions ?? 512;
  if (positions !== undefined && config.data.maxLength > positions) {
    fail(`data.maxLength: ${config.data.maxLength} is over the model's ${positions} positions (max_position_embeddings in ${modelWhere})`);
  }

  // methods: building them validates their options now, not after loading everything
  let needsAlternate = false;
  let needsReference = false;
  if (command === 'unlearn') {
    const objective = get('objective', config.objective.name)(config.objective.options);
    needsAlternate = !!objective.needs.alternate;
    needsReference = !!objective.needs.reference;
  }
  if (command === 'finetune' || command === 'unlearn') get('optimizer', config.optimizer.name)({ lr: config.optimizer.lr, ...config.optimizer.options }).dispose();

  // data
  const dir = config.data.dir;
  const files = new Set(trainingSplits(command, config, needsAlternate).map((s) => path.join(dir, s.endsWith('.jsonl') ? s : `${s}.json`)));
  // the TOFU suite (the default evaluation) reads the forget split; other metrics read eval.data's files
  const tofu = config.eval.enabled && (!config.eval.metrics || config.eval.metrics.includes('tofu'));
  if (tofu) files.add(path.join(dir, `${config.data.forget}.json`));
  if (files.size && (!existsSync(dir) || !statSync(dir).isDirectory())) fail(`${dir}: data.dir is not a folder`);
  for (const f of files) {
    if (!existsSync(f)) fail(`${f}: not found (a split this run reads; data.dir is ${dir})`);
    readUtf8(f);
  }

  // the retain-only reference
  if (config.eval.enabled && config.eval.retainModel && !existsSync(path.join(config.eval.retainModel, 'config.json'))) {
    fail(`${config.eval.retainModel}: eval.retainModel is not a model folder (no config.json)`);
  }
  if (tofu && config.eval.retainEval) {
    const forgetFile = path.join(dir, `${config.data.forget}.json`);
    const rows = readUtf8(forgetFile).split('\n').filter((l) => l.trim()).map((l, i) => {
      try {
        return JSON.parse(l) as { answer?: unknown };
      } catch (e) {
        return fail(`${forgetFile}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    });
    let forget = firstAuthors(rows, config.data.forgetAuthors, config.data.qaPerAuthor);
    if (config.eval.maxItems !== undefined) forget = forget.slice(0, config.eval.maxItems);
    checkRetainEval(config.eval.retainEval, forget);
  }

  // memory
  let stepBytes = 0;
  if (command === 'finetune' || command === 'unlearn') {
    stepBytes = stepMemoryBytes(modelConfig, config.training.batchSize, config.data.maxLength, needsReference);
    const have = availableBytes(backend);
    if (stepBytes > have) {
      fail(`training.batchSize: ${config.training.batchSize} × data.maxLength ${config.data.maxLength} needs about ${gib(stepBytes)} per step, over the ${gib(have)} the ${backend} backend can use — lower training.batchSize or data.maxLength`);
    }
  }
  return { modelConfig, positions, stepBytes };
}

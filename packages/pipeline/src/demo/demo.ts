// `demo(options)` (the `unlearn demo` command): the whole pipeline on nothing but this repository, in a few minutes on 2 CPU cores (wasm):
//  1. generate fictitious authors (TOFU-shaped files) with @unlearn/data's seeded generator;
//  2. build a word-level tokenizer from that text and a tiny Llama from a seed (no download, no checkpoint);
//  3. fine-tune the target model on all authors and a retain-only model on all but the forgotten one (same init);
//  4. forget one author with NPO + SOUL (Sophia, GNB curvature) and with NPO + AdamW, same steps and data, each at
//     its own learning rate from a small sweep;
//  5. evaluate everything (forget quality against the retain-only model, model utility, ROUGE-L, privleak),
//     print the comparison table and write the report.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { generateDemoDataset, plainTemplate, writeDemoDataset } from '@unlearn/data';
import { writeFileAtomic, type BackendName } from '@unlearn/tensors';
import { mergeConfig } from '../config/load.js';
import type { RunConfigInput } from '../config/schema.js';
import { finetune, FINETUNE_DEFAULTS } from '../finetune.js';
import { writeReport, type RunSummary } from '../report/report.js';
import type { RunEventListener } from '../run/run-log.js';
import { unlearn } from '../unlearn.js';
import { buildWordTokenizer } from './word-tokenizer.js';

export interface DemoOptions {
  out: string;
  backend: BackendName | 'auto';
  /** Seconds instead of minutes: fewer authors, epochs and steps (tests use it). */
  quick: boolean;
  /** Every event of every run (with the run it belongs to), e.g. for progress bars. */
  onEvent?: RunEventListener;
  /** Lines for people ("demo: 10 fictitious authors …"). */
  say?: (line: string) => void;
}

export interface DemoResult {
  /** The demo's folder: data/, tokenizer/, runs/<run>/, report/. */
  root: string;
  /** report.html of the comparison. */
  report: string;
  /** The unlearning runs (NPO + Sophia, NPO + AdamW). */
  runs: RunSummary[];
  /** The target and retain-only models, as reference rows. */
  baselines: RunSummary[];
}

/** Sizes of the full demo and of --quick. */
export function demoPlan(quick: boolean) {
  return quick
    ? { authors: 4, finetuneEpochs: 3, unlearnEpochs: 1, maxItems: 8, hidden: 32, layers: 1, lrs: [3e-4, 1e-3] }
    : { authors: 10, finetuneEpochs: 30, unlearnEpochs: 5, maxItems: undefined, hidden: 64, layers: 2, lrs: [3e-4, 1e-3, 3e-3] };
}

/** Every text of the dataset, as the model sees it, for the tokenizer's vocabulary. */
function corpusOf(files: Record<string, object[] | string[]>): string[] {
  const template = plainTemplate();
  const texts: string[] = [];
  for (const rows of Object.values(files)) {
    for (const row of rows) {
      if (typeof row === 'string') {
        texts.push(row);
        continue;
      }
      const r = row as Record<string, unknown>;
      const q = String(r.question ?? '');
      for (const v of Object.values(r)) {
        for (const a of Array.isArray(v) ? v : [v]) if (typeof a === 'string') texts.push(template.full(q, a));
      }
    }
  }
  return texts;
}

export interface DemoAssets {
  dataDir: string;
  tokenizerDir: string;
  splits: { forget: string; retain: string; holdout: string; forgetPerturbed: string };
  vocabSize: number;
  forgetAuthors: string[];
}

/** Writes the generated TOFU-shaped data (`<root>/data`) and its word-level tokenizer (`<root>/tokenizer`). */
export async function prepareDemoAssets(root: string, o: { authors: number; seed?: number }): Promise<DemoAssets> {
  const options = { seed: o.seed ?? 0, authors: o.authors, forgetAuthors: 1 };
  const dataDir = path.join(root, 'data');
  const dataset = await writeDemoDataset(dataDir, options);
  const tokenizerDir = path.join(root, 'tokenizer');
  await mkdir(tokenizerDir, { recursive: true });
  const tok = buildWordTokenizer(corpusOf(generateDemoDataset(options).files));
  await writeFileAtomic(path.join(tokenizerDir, 'tokenizer.json'), tok.tokenizerJson);
  await writeFileAtomic(path.join(tokenizerDir, 'tokenizer_config.json'), tok.tokenizerConfig);
  return { dataDir, tokenizerDir, splits: dataset.splits, vocabSize: tok.vocabSize, forgetAuthors: dataset.profiles.forget.map((p) => p.name) };
}

/** A tiny Llama for the word-level demo tokenizer (vocab_size is filled from the tokenizer). */
export function tinyLlamaConfig(hidden: number, layers: number): Record<string, unknown> {
  return {
    model_type: 'llama', hidden_size: hidden, intermediate_size: hidden * 2, num_hidden_layers: layers,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-5, tie_word_embeddings: true,
    bos_token_id: 1, eos_token_id: 2, pad_token_id: 3,
  };
}

/** Runs the demo; nothing is printed (see `say` and `onEvent`). */
export async function demo(o: DemoOptions): Promise<DemoResult> {
  const plan = demoPlan(o.quick);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const root = path.resolve(o.out, stamp);
  const say = o.say ?? (() => {});
  const started = Date.now();
  const events = { onEvent: o.onEvent };

  // 1–2. data, tokenizer
  const assets = await prepareDemoAssets(root, { authors: plan.authors });
  const { dataDir, tokenizerDir, splits } = assets;
  say(`demo: ${plan.authors} fictitious authors (forgetting ${assets.forgetAuthors.join(', ')}), word-level tokenizer of ${assets.vocabSize} tokens → ${root}`);

  const runsDir = path.join(root, 'runs');
  const base: RunConfigInput = {
    backend: o.backend,
    out: runsDir,
    data: { dir: dataDir, forget: splits.forget, retain: splits.retain, holdout: splits.holdout, maxLength: 64, extraTrain: ['real_authors', 'world_facts'] },
    eval: { maxItems: plan.maxItems, maxNewTokens: 24 },
  };
  const config = (...layers: RunConfigInput[]): RunConfigInput =>
    layers.reduce<Record<string, unknown>>((acc, l) => mergeConfig(acc, l as Record<string, unknown>), {});
  const tinyLlama = tinyLlamaConfig(plan.hidden, plan.layers);

  // 3. retain-only model first: its eval.json (per-item truth ratios) is what forget quality compares against
  const fresh = { model: { create: tinyLlama, tokenizer: tokenizerDir } };
  const ft = { training: { epochs: plan.finetuneEpochs, batchSize: 8, seed: 0 }, optimizer: { name: 'adamw', lr: 3e-3 } };
  const retainOnly = await finetune(config(FINETUNE_DEFAULTS, base, fresh, ft, { name: 'retain-only', data: { train: splits.retain }, eval: { enabled: true } }), events);
  const retainRun = retainOnly.summary;
  const retainEval = retainOnly.folder.eval;
  const target = await finetune(config(FINETUNE_DEFAULTS, base, fresh, ft, { name: 'target', data: { train: 'full' }, eval: { enabled: true, retainEval } }), events);
  const targetRun = target.summary;

  // 4. forget one author: the same objective, steps and schedule; each optimizer at ITS OWN best learning rate from a
  // small sweep (best forget quality among runs keeping ≥ 90% of the retain-only model's utility, else best utility) —
  // one shared lr would favour whichever optimizer takes larger steps at it (Sophia's clipped step is ~lr per entry)
  const forget = (name: string, optimizer: RunConfigInput['optimizer']) =>
    config(base, {
      name, model: { path: target.folder.checkpoint }, objective: { name: 'npo' }, optimizer,
      training: { epochs: plan.unlearnEpochs, batchSize: 4, seed: 0 }, eval: { retainEval },
    });
  const kept = 0.9 * (retainRun.metrics.modelUtility ?? 0);
  const runs = [];
  const sweep: { optimizer: string; lr: number; forgetQuality: number | null | undefined; modelUtility: number | null | undefined }[] = [];
  for (const [name, optimizer] of [
    ['npo-sophia', (lr: number) => ({ name: 'sophia', lr, options: { estimator: 'gnb' } })],
    ['npo-adamw', (lr: number) => ({ name: 'adamw', lr })],
  ] as const) {
    const tried: RunSummary[] = [];
    for (const lr of plan.lrs) tried.push((await unlearn(forget(`${name}-lr${lr}`, optimizer(lr)), events)).summary);
    const fq = (r: RunSummary) => r.metrics.forgetQuality ?? 0;
    const mu = (r: RunSummary) => r.metrics.modelUtility ?? 0;
    const ok = tried.filter((r) => mu(r) >= kept);
    const best = ok.length ? ok.sort((a, b) => fq(b) - fq(a) || mu(b) - mu(a))[0] : tried.sort((a, b) => mu(b) - mu(a))[0];
    runs.push(best);
    for (const r of tried) sweep.push({ optimizer: optimizer(r.lr ?? 0).name, lr: r.lr ?? 0, forgetQuality: r.metrics.forgetQuality, modelUtility: r.metrics.modelUtility });
  }
  const fmt = (v: number | null | undefined) => (typeof v === 'number' ? Number(v.toPrecision(2)).toString() : '—');

  // 5. the comparison
  const baselines = [
    { ...targetRun, method: 'target (before unlearning)', losses: undefined, role: 'target' as const },
    { ...retainRun, method: 'retain-only (the goal)', losses: undefined, role: 'retain-only' as const },
  ];
  const { html } = await writeReport(path.join(root, 'report'), {
    title: 'unlearn demo: forgetting one fictitious author — SOUL (Sophia) vs AdamW',
    runs, baselines, createdAt: new Date().toISOString(), forgotten: assets.forgetAuthors.join(', '),
    notes: [
      `Data: ${plan.authors} generated authors × 20 QA; forget = ${splits.forget} (1 author), retain = ${splits.retain}.`,
      `Model: tiny Llama (${plan.layers} layers, hidden ${plan.hidden}) with a word-level tokenizer of ${assets.vocabSize} tokens, fine-tuned ${plan.finetuneEpochs} epochs.`,
      'Forget quality: KS-test p-value of forget-set truth ratios against the retain-only model (higher = closer to never having seen the author).',
      `Each optimizer at its own learning rate, picked from ${plan.lrs.join(', ')} on the same author (a demo, not a benchmark: bench/quality selects on disjoint authors): ` +
        sweep.map((r) => `${r.optimizer} ${r.lr}: FQ ${fmt(r.forgetQuality)}, MU ${fmt(r.modelUtility)}`).join('; ') + '.',
      `Backend ${o.backend}; whole demo ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    ],
  });
  return { report: html, root, runs, baselines };
}

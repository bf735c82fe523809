// `attack` end to end on the demo's generated authors and a tiny Llama: relearning is deterministic in its seed, an
// unlearned model that IS the retain-only model gets R = 1, quantize writes Q per method, prefix scores each prompt
// attack, and bad inputs fail (or warn) in one line before a run folder exists.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attack, finetune, prepareDemoAssets, tinyLlamaConfig, unlearn, type DemoAssets, type RunConfigInput } from '../src/index.js';

let dir: string;
let assets: DemoAssets;
let target: string;
let retainOnly: string;
let unlearned: string;
let base: RunConfigInput;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-attack-'));
  assets = await prepareDemoAssets(path.join(dir, 'assets'), { authors: 3 });
  const data = { dir: assets.dataDir, forget: assets.splits.forget, retain: assets.splits.retain, holdout: assets.splits.holdout, maxLength: 40 };
  base = { backend: 'wasm', out: path.join(dir, 'runs'), data, eval: { maxItems: 6, maxNewTokens: 4 }, log: { quiet: true } };
  const fresh = { tokenizer: assets.tokenizerDir, create: tinyLlamaConfig(16, 1) };
  const ft = await finetune({ ...base, name: 'target', model: fresh, data: { ...data, train: 'full' }, training: { steps: 6, batchSize: 8 }, optimizer: { name: 'adamw', lr: 3e-3 }, eval: { enabled: false } });
  const ro = await finetune({ ...base, name: 'retain-only', model: fresh, data: { ...data, train: assets.splits.retain }, training: { steps: 6, batchSize: 8 }, optimizer: { name: 'adamw', lr: 3e-3 }, eval: { enabled: false } });
  const un = await unlearn({ ...base, name: 'ga', model: { path: ft.folder.checkpoint }, objective: { name: 'ga' }, optimizer: { name: 'adamw', lr: 3e-3 }, training: { steps: 2, batchSize: 4 }, eval: { enabled: false } });
  [target, retainOnly, unlearned] = [ft.folder.checkpoint, ro.folder.checkpoint, un.folder.checkpoint];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const relearn = (name: string, model: string, partner: string, seed = 0): RunConfigInput => ({
  ...base, name, model: { path: model }, eval: { ...base.eval, retainModel: partner },
  attack: { kind: 'relearn', relearn: { steps: 4, items: 4, batchSize: 2, seed, lr: 3e-3 } },
});

describe('attack relearn', () => {
  it('is deterministic in its seed, writes attack.json and the recovery plot; no leaked tensors', async () => {
    const before = tf.memory().numTensors;
    const a = await attack(relearn('relearn-a', unlearned, retainOnly));
    const b = await attack(relearn('relearn-b', unlearned, retainOnly));
    expect(tf.memory().numTensors).toBe(before);
    expect(a.attack.curves!.unlearned.map((p) => p.step)).toEqual([0, 1, 2, 4]);
    expect(b.attack.curves).toEqual(a.attack.curves);
    expect(b.attack.scores).toEqual(a.attack.scores);
    // relearning moved the model: forget probability after 4 steps differs from step 0
    const u = a.attack.curves!.unlearned;
    expect(u[3].metrics.forgetProb).not.toBe(u[0].metrics.forgetProb);
    expect(typeof a.attack.scores.R_forgetProb).toBe('number');
    expect(a.attack.scores.R_forgetProb).toBeGreaterThanOrEqual(0);
    expect(a.attack.scores.R_forgetProb).toBeLessThanOrEqual(1);
    for (const f of ['attack.json', 'attack.md', 'attack.html', 'recovery-forgetProb.svg', 'summary.json', 'report.html', 'attack/unlearned-step4.json']) {
      expect(existsSync(path.join(a.folder.dir, f)), f).toBe(true);
    }
    expect(JSON.parse(await readFile(path.join(a.folder.dir, 'attack.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(a.attack)));
    expect(await readFile(path.join(a.folder.dir, 'recovery-forgetProb.svg'), 'utf8')).toMatch(/^<svg .*<polyline .*<title>unlearned<\/title>.*<title>retain-only<\/title>/s);
    expect(a.attack.warnings).toEqual([]);
    const html = await readFile(path.join(a.folder.dir, 'attack.html'), 'utf8');
    expect(html).toMatch(/<table><thead><tr><th>model<\/th><th>step<\/th><th>forgetProb<\/th>.*<td>unlearned<\/td><td>4<\/td>/s);
    expect(html).toMatch(/<li>R_forgetProb: [\d.]+<\/li>.*<svg /s);
    const other = await attack(relearn('relearn-seed1', unlearned, retainOnly, 1));
    expect(other.attack.curves!.relearnRows).not.toEqual(a.attack.curves!.relearnRows);
  });

  it('benign relearning trains on retain rows (no forget slice, no held-out metric)', async () => {
    const cfg = relearn('relearn-benign', unlearned, retainOnly);
    const r = await attack({ ...cfg, attack: { ...cfg.attack, relearn: { ...cfg.attack!.relearn, set: 'benign', steps: 2 } } });
    expect(r.attack.curves!.relearnRows).toBeNull();
    expect(r.attack.curves!.unlearned.map((p) => p.step)).toEqual([0, 1, 2]);
    expect('forgetProbHeldOut' in r.attack.curves!.unlearned[0].metrics).toBe(false);
    expect(r.attack.curves!.unlearned[2].metrics.forgetProb).not.toBe(r.attack.curves!.unlearned[0].metrics.forgetProb);
  });

  it('R = 1 when the "unlearned" model is the retain-only model, and says it was never unlearned', async () => {
    const r = await attack(relearn('relearn-self', retainOnly, retainOnly));
    // the same model, the same rows, the same seed: the same curve (forget quality aside — at step 0 the retain-only
    // model's own evaluation is the reference, so it has none)
    const knowledge = (c: { step: number; metrics: Record<string, number | null> }[]) =>
      c.map((p) => ({ step: p.step, forgetProb: p.metrics.forgetProb, forgetRougeL: p.metrics.forgetRougeL, es: p.metrics.extractionStrength }));
    expect(knowledge(r.attack.curves!.unlearned)).toEqual(knowledge(r.attack.curves!.retainOnly));
    for (const [k, v] of Object.entries(r.attack.scores)) expect(v, k).toBe(1);
    expect(r.attack.warnings).toEqual([expect.stringMatching(/: no unlearn run here \(no summary\.json \+ config\.yaml with "command: unlearn"/)]);
  });
});

describe('attack quantize and prefix', () => {
  it('quantize: Q per method and metric; the model on disk is untouched', async () => {
    const weights = path.join(unlearned, 'model.safetensors');
    const bytes = await readFile(weights);
    const r = await attack({ ...base, name: 'quant', model: { path: unlearned }, eval: { ...base.eval, retainModel: retainOnly }, attack: { kind: 'quantize', quantize: { methods: ['int8', 'nf4'] } } });
    expect(r.attack.variants!.map((v) => v.name)).toEqual(['fp32', 'int8', 'nf4-b64']);
    const q = r.attack.scores;
    for (const k of ['Q_int8_forgetProb', 'Q_nf4-b64_forgetProb']) {
      expect(q[k]).toBeGreaterThan(0);
      expect(q[k]).toBeLessThanOrEqual(1);
    }
    // the round trip is small at int8: Q close to 1 on the forget probability
    expect(q.Q_int8_forgetProb).toBeGreaterThan(0.9);
    // the plot: the unlearned model per variant, the retain-only model's fp32 level across them
    expect(await readFile(path.join(r.folder.dir, 'recovery-forgetProb.svg'), 'utf8')).toMatch(/<title>unlearned<\/title>.*<title>retain-only \(fp32\)<\/title>/s);
    expect(typeof r.attack.variants![0].unlearned.forgetQuality).toBe('number'); // retain-only eval used for forget quality
    expect((await readFile(weights)).equals(bytes)).toBe(true);
  });

  it('prefix: every attack scored on both models, none first', async () => {
    const r = await attack({ ...base, name: 'prefix', model: { path: unlearned }, eval: { ...base.eval, retainModel: retainOnly }, attack: { kind: 'prefix', prefix: { attacks: ['answer-prefix', 'paraphrase'] } } });
    expect(r.attack.variants!.map((v) => v.name)).toEqual(['none', 'answer-prefix', 'paraphrase']);
    for (const v of r.attack.variants!) {
      expect(v.unlearned.forgetProb).toBeGreaterThan(0);
      expect(v.retainOnly!.forgetProb).toBeGreaterThan(0);
    }
    expect(r.attack.variants![1].unlearned.forgetProb).not.toBe(r.attack.variants![0].unlearned.forgetProb);
  });
});

describe('attack: bad input', () => {
  it('fails in one line before any run folder exists', async () => {
    const out = path.join(dir, 'bad');
    const cfg = (extra: RunConfigInput): RunConfigInput => ({ ...base, out, ...extra });
    await expect(attack(cfg({ model: { path: unlearned }, attack: { kind: 'relearn' } }))).rejects.toThrow(/^attack relearn: eval\.retainModel: missing — the retain-only model folder/);
    await expect(attack(cfg({ model: { path: path.join(dir, 'nope') }, eval: { retainModel: retainOnly } }))).rejects.toThrow(/nope\/config\.json: not found \(model\.path must be a Hugging Face model folder\)$/);
    // a retain-only model with another tokenizer
    const other = path.join(dir, 'other-tokenizer');
    await cp(retainOnly, other, { recursive: true });
    const tok = JSON.parse(await readFile(path.join(other, 'tokenizer.json'), 'utf8'));
    const vocab = tok.model.vocab as Record<string, number>;
    const first = Object.keys(vocab)[5];
    vocab[`${first}x`] = vocab[first];
    delete vocab[first];
    await writeFile(path.join(other, 'tokenizer.json'), JSON.stringify(tok));
    await expect(attack(cfg({ model: { path: unlearned }, eval: { retainModel: other } }))).rejects.toThrow(/other-tokenizer\/tokenizer\.json: a different tokenizer \(\d+ tokens\) from .*; the retain-only model must share the unlearned model's tokenizer$/);
    await expect(attack(cfg({ model: { path: unlearned }, eval: { retainModel: retainOnly }, attack: { kind: 'prefix', prefix: { attacks: ['dan'] } } }))).rejects.toThrow(/^prefix: unknown attack "dan"/);
    await expect(attack(cfg({ model: { path: unlearned }, attack: { kind: 'quantize', quantize: { methods: ['int3'] } } } as never))).rejects.toThrow(/attack\.quantize\.methods\.0: "int3" is not one of int8, int4, nf4/);
    expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
  });

  it('quantize without a retain-only model warns and carries on', async () => {
    const r = await attack({ ...base, name: 'quant-alone', model: { path: unlearned }, attack: { kind: 'quantize', quantize: { methods: ['int8'] } } });
    expect(r.attack.warnings).toEqual([expect.stringMatching(/^attack quantize: no eval\.retainModel \(the retain-only model\)/)]);
    expect(r.attack.variants![0].unlearned.forgetQuality).toBeNull();
  });
});

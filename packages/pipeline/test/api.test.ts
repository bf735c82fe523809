// The pipeline API in-process: typed configs in, a run folder and the summary out, every logged event delivered to
// onEvent as it is written; bad configs fail before anything is written.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finetune, prepareDemoAssets, tinyLlamaConfig, unlearn, type RunEvent, type DemoAssets } from '../src/index.js';

let dir: string;
let assets: DemoAssets;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-pipeline-'));
  assets = await prepareDemoAssets(path.join(dir, 'assets'), { authors: 3 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const readLog = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));

describe('pipeline API', () => {
  it('finetune then unlearn (WAGLE-masked Sophia): run folders, summaries, and events identical to log.jsonl', async () => {
    const before = tf.memory().numTensors;
    const data = { dir: assets.dataDir, forget: assets.splits.forget, retain: assets.splits.retain, maxLength: 40 };
    const seen: RunEvent[] = [];
    const ft = await finetune({
      backend: 'cpu', out: path.join(dir, 'runs'), name: 'target', model: { tokenizer: assets.tokenizerDir, create: tinyLlamaConfig(16, 1) },
      data: { ...data, train: 'full' }, training: { steps: 3, batchSize: 4 },
    }, { onEvent: (e) => void seen.push(e) });
    for (const f of ['config.yaml', 'log.jsonl', 'checkpoint/model.safetensors', 'summary.json', 'report.html']) expect(existsSync(path.join(ft.folder.dir, f)), f).toBe(true);
    expect(existsSync(ft.folder.eval)).toBe(false); // FINETUNE_DEFAULTS: eval off
    expect(seen).toEqual(await readLog(ft.folder.log));
    expect(seen.map((e) => e.event)).toEqual(['start', 'backend', 'info', 'info', 'step', 'step', 'step', 'progress-end', 'checkpoint', 'done']);
    const steps = seen.filter((e) => e.event === 'step');
    expect(steps.map((e) => [e.label, e.step, e.total])).toEqual([['finetune', 1, 3], ['finetune', 2, 3], ['finetune', 3, 3]]);
    expect(JSON.parse(await readFile(ft.folder.summary, 'utf8'))).toEqual(JSON.parse(JSON.stringify(ft.summary)));
    expect(ft.summary).toMatchObject({ name: 'target', method: 'finetune + adamw', objective: 'nll', steps: 3 });
    expect(ft.summary.losses!.map((l) => l.loss)).toEqual(steps.map((e) => e.loss));

    const un = await unlearn({
      backend: 'cpu', out: path.join(dir, 'runs'), name: 'ga-wagle', model: { path: ft.folder.checkpoint }, data,
      objective: { name: 'graddiff' }, optimizer: { name: 'sophia', lr: 1e-3, options: { estimator: 'gnb' } },
      mask: { name: 'wagle', keep: 0.25 }, training: { steps: 2, batchSize: 2 }, eval: { enabled: false },
    });
    expect(un.summary).toMatchObject({ method: 'graddiff + sophia-gnb + wagle 25%', mask: 'wagle', steps: 2 });
    const events = await readLog(un.folder.log);
    expect(events.filter((e) => e.event === 'info').map((e) => e.message).join('\n')).toMatch(/^mask wagle: keep 0\.25 of weights/m);
    const unSteps = events.filter((e) => e.event === 'step');
    expect(unSteps).toHaveLength(2);
    expect(unSteps.every((e) => typeof e.winRate === 'number' && Number.isFinite(e.parts.forget) && Number.isFinite(e.parts.retain))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates configs with the CLI schema: one line per problem, nothing written', async () => {
    const out = path.join(dir, 'bad-runs');
    await expect(unlearn({ out, optimizer: { name: 'sophai' }, training: { batchSize: 0 } } as never)).rejects.toThrow(
      /^config: optimizer\.name: "sophai" is not one of .*\bsophia\b.*\nconfig: training\.batchSize: 0 — must be greater than 0$/,
    );
    await expect(finetune({ out, trainig: {} } as never)).rejects.toThrow(/^config: \(top level\): unknown key "trainig" \(allowed: name, backend, out, /);
    expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
  });
});

// The CLI end to end, in process: help, config errors, a tiny finetune → unlearn → eval → report on generated data,
// checking the run folders' contents and that no tensors leak.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { list } from '@unlearn/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tinyLlama, writeTinyRunAssets } from './in-process.js';


let dir: string;
let dataDir: string;
let tokDir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-cli-'));
  ({ dataDir, tokDir } = await writeTinyRunAssets(dir));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('unlearn CLI', () => {
  it('--help lists every command', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of ['finetune', 'unlearn', 'eval', 'report', 'bench', 'generate', 'demo']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    const u = await cli('unlearn', '--help');
    expect(u.stdout).toContain('--optimizer-name <name>');
    expect(u.stdout).toContain('--backend <name>');
  });

  it('rejects a bad config with one line per problem naming the key and the allowed values', async () => {
    const file = path.join(dir, 'config.yaml');
    await writeFile(file, 'optimizer:\n  name: sophai\ntraining:\n  epoch: 2\n');
    const r = await cli('unlearn', '--config', file);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`unlearn: ${file}: optimizer.name: "sophai" is not one of ${list('optimizer').join(', ')}`);
    expect(lines[1]).toMatch(/^\/.*\/config\.yaml: training: unknown key "epoch" \(allowed: epochs, /);
    expect(existsSync(path.join(process.cwd(), 'runs'))).toBe(false); // nothing written on a config error
    const flag = await cli('finetune', '--backend', 'gpu');
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain('--backend: "gpu" is not one of auto, wasm, cpu, webgpu');
  });

  it('lists the registered methods', async () => {
    const r = await cli('list');
    expect(r.stdout).toMatch(/^objectives: .*npo/m);
    expect(r.stdout).toMatch(/^optimizers: .*adamw.*sophia/m);
  });

  it('finetune → unlearn → report on generated data: run folders hold checkpoint, eval, config, log, report; no tensor leaks', async () => {
    const before = tf.memory().numTensors;
    const out = path.join(dir, 'runs');
    const common = ['--backend', 'cpu', '--out', out, '--data-dir', dataDir, '--data-forget', 'forget33', '--data-retain', 'retain67', '--data-max-length', '48', '--quiet'];
    const cfg = path.join(dir, 'ft.yaml');
    await writeFile(cfg, `model:\n  tokenizer: ${tokDir}\n  create: ${JSON.stringify(tinyLlama)}\ntraining:\n  steps: 3\n  batchSize: 4\neval:\n  enabled: true\n  maxItems: 3\n  maxNewTokens: 4\n`);
    const ft = await cli('finetune', '--config', cfg, '--name', 'target', '--data-train', 'full', ...common);
    expect(ft.stderr).toBe('');
    expect(ft.code).toBe(0);
    const target = path.join(out, 'target');
    for (const f of ['config.yaml', 'log.jsonl', 'checkpoint/config.json', 'checkpoint/model.safetensors', 'checkpoint/tokenizer.json', 'eval.json', 'summary.json', 'report.md', 'report.html']) {
      expect(existsSync(path.join(target, f)), f).toBe(true);
    }
    const resolved = await readFile(path.join(target, 'config.yaml'), 'utf8');
    expect(resolved).toContain('name: adamw'); // finetune's default optimizer, written out resolved
    const events = (await readFile(path.join(target, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const steps = events.filter((e) => e.event === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3]);
    expect(steps.every((e) => Number.isFinite(e.loss) && e.tokens > 0)).toBe(true);

    const gen = await cli('generate', '--model', path.join(target, 'checkpoint'), '--backend', 'cpu', '--question', '-n', '3', 'Who is the author?');
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout.split('\n')[0].startsWith('Who is the author? ')).toBe(true);

    const un = await cli('unlearn', '--name', 'npo-sophia', '--model-path', path.join(target, 'checkpoint'), '--objective-name', 'npo',
      '--optimizer-name', 'sophia', '--optimizer-options', 'estimator=gnb', '--optimizer-lr', '1e-3', '--training-steps', '2',
      '--training-batch-size', '2', '--eval-max-items', '3', '--eval-retain-eval', path.join(target, 'eval.json'), ...common);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toMatch(/npo \+ sophia-gnb\s+2\s/);
    const summary = JSON.parse(await readFile(path.join(out, 'npo-sophia', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ objective: 'npo', optimizer: 'sophia', steps: 2, method: 'npo + sophia-gnb' });
    expect(summary.losses).toHaveLength(2);
    expect(typeof summary.metrics.modelUtility).toBe('number');
    // the unlearned model's forget quality is a KS p-value against the truth ratios in --eval-retain-eval
    expect(summary.metrics.forgetQuality).toBeGreaterThanOrEqual(0);
    expect(summary.metrics.forgetQuality).toBeLessThanOrEqual(1);
    // without a retain-only eval there is no forget quality (null, not invented)
    const targetSummary = JSON.parse(await readFile(path.join(target, 'summary.json'), 'utf8'));
    expect(targetSummary.metrics.forgetQuality).toBeNull();

    const rep = await cli('report', path.join(out, 'npo-sophia'), '--baseline', target, '--out', path.join(dir, 'report'));
    expect(rep.code, rep.stderr).toBe(0);
    const md = await readFile(path.join(dir, 'report', 'report.md'), 'utf8');
    expect(md).toContain('| npo-sophia | npo + sophia-gnb |');
    expect(md).toContain('| target | finetune + adamw |');
    expect(await readdir(path.join(dir, 'report'))).toEqual(expect.arrayContaining(['report.html', 'tradeoff.svg']));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('demo --quick: generated data, own tokenizer, tiny model, SOUL vs AdamW, a comparison table and a report', async () => {
    const before = tf.memory().numTensors;
    const r = await cli('demo', '--quick', '--quiet', '--backend', 'wasm', '--out', path.join(dir, 'demo'));
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^(target|retain-only|npo \+)/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/)[0])).toEqual(['target (before unlearning)', 'retain-only (the goal)', 'npo + sophia-gnb', 'npo + adamw']);
    const report = /report: (.+\.html)/.exec(r.stdout)![1];
    const html = await readFile(report, 'utf8');
    expect(html).toContain('SOUL (Sophia) vs AdamW');
    expect(html.match(/<polyline /g)).toHaveLength(2); // the two unlearning runs' loss curves
    const root = path.dirname(path.dirname(report));
    expect(JSON.parse(await readFile(path.join(root, 'tokenizer', 'tokenizer.json'), 'utf8')).model.type).toBe('WordLevel');
    // seeds are seeds (issue 14: seed 0 used to draw a random init): a second demo prints the same numbers
    const again = await cli('demo', '--quick', '--quiet', '--backend', 'wasm', '--out', path.join(dir, 'demo-again'));
    const numbers = (stdout: string) => stdout.split('\n').filter((l) => /^(target|retain-only|npo \+)/.test(l)).map((l) => l.split(/\s{2,}/).filter((_, i) => i !== 2).join(' | '));
    expect(numbers(again.stdout)).toEqual(numbers(r.stdout));
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('refuses to overwrite a finished run folder', async () => {
    const out = path.join(dir, 'runs');
    const r = await cli('eval', '--backend', 'cpu', '--out', out, '--name', 'target', '--model-path', path.join(out, 'target', 'checkpoint'), '--data-dir', dataDir, '--data-forget', 'forget33');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/target: a run folder with this name already exists/);
  });

  it('names the missing run folder in report errors', async () => {
    const r = await cli('report', path.join(dir, 'nope'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^unlearn: .*nope\/summary\.json: cannot read \(ENOENT\)/);
  });
});

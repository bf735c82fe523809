// `unlearn attack relearn|quantize|prefix` in process: help, one-line input errors, and a quantize + relearn run on
// tiny models made with the pipeline API.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './in-process.js';
import { finetune, prepareDemoAssets, tinyLlamaConfig, unlearn } from '@unlearn/pipeline';


let dir: string;
let common: string[];
let unlearned: string;
let retainOnly: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-attack-cli-'));
  const assets = await prepareDemoAssets(path.join(dir, 'assets'), { authors: 3 });
  const data = { dir: assets.dataDir, forget: assets.splits.forget, retain: assets.splits.retain, holdout: assets.splits.holdout, maxLength: 40 };
  const base = { backend: 'wasm' as const, out: path.join(dir, 'models'), data, log: { quiet: true }, eval: { enabled: false }, optimizer: { name: 'adamw', lr: 3e-3 } };
  const fresh = { tokenizer: assets.tokenizerDir, create: tinyLlamaConfig(16, 1) };
  const ft = await finetune({ ...base, name: 'target', model: fresh, data: { ...data, train: 'full' }, training: { steps: 4, batchSize: 8 } });
  const ro = await finetune({ ...base, name: 'retain-only', model: fresh, data: { ...data, train: assets.splits.retain }, training: { steps: 4, batchSize: 8 } });
  const un = await unlearn({ ...base, name: 'ga', model: { path: ft.folder.checkpoint }, objective: { name: 'ga' }, training: { steps: 2, batchSize: 4 } });
  [unlearned, retainOnly] = [un.folder.checkpoint, ro.folder.checkpoint];
  common = ['--backend', 'wasm', '--out', path.join(dir, 'runs'), '--data-dir', assets.dataDir, '--data-forget', assets.splits.forget,
    '--data-retain', assets.splits.retain, '--data-holdout', assets.splits.holdout, '--data-max-length', '40', '--eval-max-items', '5', '--eval-max-new-tokens', '4', '--quiet'];
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('unlearn attack', () => {
  it('--help lists the three attacks; quantize has --int8/--int4/--nf4 and the attack flags', async () => {
    const r = await cli('attack', '--help');
    for (const c of ['relearn', 'quantize', 'prefix']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    const q = await cli('attack', 'quantize', '--help');
    for (const flag of ['--int8', '--int4', '--nf4', '--attack-quantize-group-size <integer>', '--eval-retain-model <string>']) expect(q.stdout).toContain(flag);
  });

  it('relearn without a retain-only model: one line, exit 1, nothing written', async () => {
    const r = await cli('attack', 'relearn', '--model-path', unlearned, ...common);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^unlearn: attack relearn: eval\.retainModel: missing — the retain-only model folder .*\n$/);
    expect(existsSync(path.join(dir, 'runs'))).toBe(false);
  });

  it('quantize --int8 --nf4 and relearn print the recovery and write attack.json', async () => {
    const q = await cli('attack', 'quantize', '--int8', '--nf4', '--name', 'q', '--model-path', unlearned, '--eval-retain-model', retainOnly, ...common);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/^fp32 +\d/m);
    expect(q.stdout).toMatch(/^Q_int8_forgetProb = 0\.\d+|^Q_int8_forgetProb = 1$/m);
    expect(q.stdout).toMatch(/^Q_nf4-b64_forgetProb = /m);
    const saved = JSON.parse(await readFile(path.join(dir, 'runs', 'q', 'attack.json'), 'utf8'));
    expect(saved.variants.map((v: { name: string }) => v.name)).toEqual(['fp32', 'int8', 'nf4-b64']);

    const r = await cli('attack', 'relearn', '--name', 'r', '--model-path', unlearned, '--eval-retain-model', retainOnly,
      '--attack-relearn-steps', '4', '--attack-relearn-items', '3', '--attack-relearn-batch-size', '2', '--attack-relearn-checkpoints', '2,4', ...common);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(1, 4).map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([0, 2, 4]);
    expect(r.stdout).toMatch(/^R_forgetProb = /m);
    expect(existsSync(path.join(dir, 'runs', 'r', 'recovery-forgetProb.svg'))).toBe(true);
  });
});

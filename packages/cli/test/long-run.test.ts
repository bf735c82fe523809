// A CLI you can trust with a long run (issue 14): seeds that are seeds, divergence that fails loudly, checkpoints that
// survive kill -9 and resume byte-identically, checks before work, failed runs that record why and can be retried.
// In process through `main` where possible; the kill and signal tests run the BUILT bin as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { writeDemoDataset } from '@unlearn/data';
import { decodeSafetensors } from '@unlearn/tensors/safetensors-codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tinyLlama, killWhen, writeTinyRunAssets } from './in-process.js';
import { cliVersion } from '../src/cli.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));


let dir: string;
let dataDir: string;
let tokDir: string;
let modelCfg: string;
/** Flags every run here shares: generated data (3 authors, one forgotten), a fresh tiny Llama, cpu, quiet. */
const common = () => ['--config', modelCfg, '--backend', 'wasm', '--data-dir', dataDir, '--data-forget', 'forget33', '--data-retain', 'retain67', '--quiet'];
const events = async (runDir: string) => (await readFile(path.join(runDir, 'log.jsonl'), 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const json = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-long-run-'));
  ({ dataDir, tokDir } = await writeTinyRunAssets(dir));
  modelCfg = path.join(dir, 'model.yaml');
  await writeFile(modelCfg, `model:\n  tokenizer: ${tokDir}\n  create: ${JSON.stringify(tinyLlama)}\neval:\n  enabled: false\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the built bin; resolves when it exits. `onLine` sees each stderr/stdout chunk as it comes. */
function child(args: string[], onData?: (text: string, proc: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (b: Buffer) => {
      out += b.toString();
      onData?.(b.toString(), proc);
    };
    proc.stdout.on('data', take);
    proc.stderr.on('data', take);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

describe('1. seeds are seeds', () => {
  it('seed 0 twice gives byte-identical fine-tuned weights', async () => {
    const out = path.join(dir, 'seeds');
    for (const name of ['a', 'b']) {
      const r = await cli('finetune', ...common(), '--out', out, '--name', name, '--training-steps', '2', '--training-seed', '0');
      expect(r.code, r.stderr).toBe(0);
    }
    const a = await readFile(path.join(out, 'a', 'checkpoint', 'model.safetensors'));
    const b = await readFile(path.join(out, 'b', 'checkpoint', 'model.safetensors'));
    expect(a.equals(b)).toBe(true);
  });
});

describe('2. divergence fails loudly', () => {
  it('--optimizer-lr 1e6: exits non-zero, records `stopped`, keeps the last good checkpoint, writes no final one', async () => {
    const out = path.join(dir, 'diverge');
    const r = await cli('unlearn', ...common(), '--out', out, '--name', 'lr1e6', '--objective-name', 'ga', '--optimizer-name', 'adamw',
      '--optimizer-lr', '1e6', '--training-steps', '30', '--training-batch-size', '2', '--training-checkpoint-every', '1');
    expect(r.code).toBe(1);
    const run = path.join(out, 'lr1e6');
    expect(r.stderr).toMatch(new RegExp(`^unlearn: ${run}: training stopped at step \\d+ \\(Trainer: step \\d+: .*non-finite|NaN|Infinity`));
    const summary = await json(path.join(run, 'summary.json'));
    const stopped = summary.stopped as { reason: string; step: number; lastCheckpoint?: string };
    expect(stopped.step).toBeGreaterThan(1);
    expect(stopped.step).toBeLessThan(30);
    expect(stopped.reason).toMatch(/NaN|Infinity|non-finite/);
    expect((await events(run)).filter((e) => e.event === 'stopped')).toEqual([expect.objectContaining({ step: stopped.step, reason: stopped.reason })]);
    expect(existsSync(path.join(run, 'checkpoint'))).toBe(false); // the wreck is not saved
    expect(stopped.lastCheckpoint).toBe(path.join(run, 'checkpoints', `step-${String(stopped.step - 1).padStart(6, '0')}`));
    // the last good checkpoint is a model folder of finite weights: eval-able
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(path.join(stopped.lastCheckpoint!, 'model.safetensors'))));
    for (const [name, t] of tensors) expect((await t.data()).every(Number.isFinite), name).toBe(true);
    tf.dispose([...tensors.values()]);
    expect(existsSync(path.join(stopped.lastCheckpoint!, 'config.json'))).toBe(true);
    expect(existsSync(path.join(stopped.lastCheckpoint!, 'tokenizer.json'))).toBe(true);
  });

  it('a model folder whose weights hold NaN fails to load with one line naming the file and the tensor', async () => {
    const out = path.join(dir, 'nan');
    expect((await cli('finetune', ...common(), '--out', out, '--name', 'ok', '--training-steps', '1')).code).toBe(0);
    const model = path.join(out, 'ok', 'checkpoint');
    const file = path.join(model, 'model.safetensors');
    const bytes = await readFile(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString()) as Record<string, { data_offsets: [number, number] }>;
    const [name, entry] = Object.entries(header).find(([k]) => k !== '__metadata__')!;
    bytes.writeFloatLE(Number.NaN, 8 + headerLength + entry.data_offsets[0]);
    await writeFile(file, bytes);
    const r = await cli('eval', '--backend', 'cpu', '--model-path', model, '--data-dir', dataDir, '--data-forget', 'forget33', '--out', out, '--quiet');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`unlearn: ${file}: tensor "${name}" contains NaN or Inf — a diverged or corrupt model\n`);
    const gen = await cli('generate', '--backend', 'wasm', '--model', model, 'Hello');
    expect(gen.stderr).toBe(`unlearn: ${file}: tensor "${name}" contains NaN or Inf — a diverged or corrupt model\n`);
  });
});

describe('3. checkpoint and resume', () => {
  it('SIGKILL mid-run, a corrupt newest checkpoint and a stale temp folder: --resume ends byte-identical to an uninterrupted run', async () => {
    const out = path.join(dir, 'resume');
    const args = (name: string) => [
      'unlearn', ...common(), '--out', out, '--name', name, '--objective-name', 'npo', '--optimizer-name', 'sophia', '--optimizer-lr', '1e-3',
      '--training-steps', '30', '--training-batch-size', '2', '--training-checkpoint-every', '4', '--training-keep', '3',
    ];
    const whole = await cli(...args('whole'));
    expect(whole.code, whole.stderr).toBe(0);
    // kill -9 once two checkpoints are on disk (polling the folder: the kill lands anywhere, mid-write included)
    const proc = spawn(process.execPath, [bin, ...args('killed2')], { stdio: 'ignore' });
    const ck2 = path.join(out, 'killed2', 'checkpoints');
    const result = await killWhen(proc, () => existsSync(ck2) && readdirSync(ck2).filter((n) => /^step-\d+$/.test(n)).length >= 2);
    expect(result.signal).toBe('SIGKILL');
    const run = path.join(out, 'killed2');
    expect(existsSync(path.join(run, 'checkpoint'))).toBe(false); // it really died mid-run
    expect(existsSync(path.join(run, '.lock'))).toBe(true); // …leaving its lock behind
    const names = readdirSync(ck2).filter((n) => /^step-\d+$/.test(n)).sort();
    // corrupt the newest checkpoint (resume must fall back to the previous one) and leave a killed write's temp folder
    const newest = path.join(ck2, names[names.length - 1], 'model.safetensors');
    const bytes = await readFile(newest);
    bytes[bytes.length - 1] ^= 0x55;
    await writeFile(newest, bytes);
    await mkdir(path.join(ck2, '.tmp-step-999995-1-1'));

    const resumed = await child([...args('killed2'), '--resume']);
    expect(resumed.code, resumed.out).toBe(0);
    const a = await readFile(path.join(out, 'whole', 'checkpoint', 'model.safetensors'));
    const b = await readFile(path.join(run, 'checkpoint', 'model.safetensors'));
    expect(b.equals(a)).toBe(true); // byte-identical
    const log = await events(run);
    const warnings = log.filter((e) => e.event === 'warning').map((e) => String(e.message));
    expect(warnings.some((w) => w.includes('took over the lock of process'))).toBe(true);
    expect(warnings.some((w) => w.includes('removed .tmp-step-999995-1-1'))).toBe(true);
    expect(warnings.some((w) => w.includes('SHA-256 does not match') && w.includes('falling back to the previous checkpoint'))).toBe(true);
    expect(log.filter((e) => e.event === 'resume')).toHaveLength(1);
    expect(existsSync(path.join(run, '.lock'))).toBe(false);
    expect(readdirSync(ck2).filter((n) => n.startsWith('.'))).toEqual([]);
    const summary = await json(path.join(run, 'summary.json'));
    expect((summary.losses as { step: number }[]).map((l) => l.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  }, 180_000);

  it('a LoRA run killed mid-run resumes to the same merged model and adapter as an uninterrupted one', async () => {
    const out = path.join(dir, 'resume-lora');
    const args = (name: string) => [
      'unlearn', ...common(), '--out', out, '--name', name, '--objective-name', 'npo', '--optimizer-name', 'adamw', '--optimizer-lr', '1e-2',
      '--training-steps', '16', '--training-batch-size', '2', '--training-checkpoint-every', '4', '--lora', 'r=2,alpha=4,targets=q_proj,v_proj',
    ];
    const whole = await cli(...args('whole'));
    expect(whole.code, whole.stderr).toBe(0);
    const proc = spawn(process.execPath, [bin, ...args('killed')], { stdio: 'ignore' });
    const ck = path.join(out, 'killed', 'checkpoints');
    const result = await killWhen(proc, () => existsSync(ck) && readdirSync(ck).some((n) => /^step-\d+$/.test(n)));
    expect(result.signal).toBe('SIGKILL');
    expect(existsSync(path.join(out, 'killed', 'checkpoint'))).toBe(false);
    const resumed = await child([...args('killed'), '--resume']);
    expect(resumed.code, resumed.out).toBe(0);
    for (const file of ['checkpoint/model.safetensors', 'adapter/adapter_model.safetensors']) {
      const a = await readFile(path.join(out, 'whole', file));
      const b = await readFile(path.join(out, 'killed', file));
      expect(b.equals(a), file).toBe(true);
    }
    const summary = await json(path.join(out, 'killed', 'summary.json'));
    expect((summary.losses as { step: number }[]).map((l) => l.step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  }, 180_000);

  it('refuses a second writer while the first is alive; an existing run needs --resume or --overwrite', async () => {
    const out = path.join(dir, 'lock');
    const first = await cli('finetune', ...common(), '--out', out, '--name', 'r', '--training-steps', '2');
    expect(first.code, first.stderr).toBe(0);
    const again = await cli('finetune', ...common(), '--out', out, '--name', 'r', '--training-steps', '2');
    expect(again.stderr).toMatch(/a run folder with this name already exists \(--resume continues it, --overwrite starts it again/);
    const sleeper = spawn('sleep', ['30']);
    try {
      await writeFile(path.join(out, 'r', '.lock'), JSON.stringify({ pid: sleeper.pid, host: os.hostname() }));
      const r = await cli('finetune', ...common(), '--out', out, '--name', 'r', '--training-steps', '2', '--resume');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`unlearn: ${path.join(out, 'r')}: in use by process ${sleeper.pid} (lock file ${path.join(out, 'r', '.lock')}); wait for it to finish or stop it\n`);
    } finally {
      sleeper.kill();
    }
    await rm(path.join(out, 'r', '.lock'));
    const over = await cli('finetune', ...common(), '--out', out, '--name', 'r', '--training-steps', '3', '--overwrite');
    expect(over.code, over.stderr).toBe(0);
    expect((await json(path.join(out, 'r', 'summary.json'))).steps).toBe(3);
    expect((await cli('finetune', ...common(), '--out', out, '--resume')).stderr).toBe('unlearn: --resume: needs --name, the run folder to continue (a default name is new every time)\n');
    const changed = await cli('finetune', ...common(), '--out', out, '--name', 'r', '--training-steps', '4', '--resume');
    expect(changed.stderr).toMatch(/--resume with a different config \(training\.steps: 3 → 4\)/);
  });
});

describe('4. validation before work', () => {
  const fast = async (argv: string[]) => {
    const t0 = Date.now();
    const r = await cli(...argv);
    return { ...r, ms: Date.now() - t0 };
  };

  it('bad paths, sizes and files fail in one line before any run folder exists', async () => {
    const out = path.join(dir, 'pre');
    const u = (...extra: string[]) => fast(['unlearn', ...common(), '--out', out, '--name', 'x', ...extra]);
    const eval1 = await u('--eval-enabled', 'true', '--eval-retain-eval', '/nonexistent.json');
    expect(eval1.stderr).toBe('unlearn: /nonexistent.json: not found (eval.retainEval, the retain-only model\'s eval.json)\n');
    expect((await u('--data-max-length', '1000000000')).stderr).toBe(
      'unlearn: data.maxLength: 1000000000 is over the model\'s 96 positions (max_position_embeddings in model.create)\n',
    );
    const huge = await u('--training-batch-size', '1000000');
    expect(huge.stderr).toMatch(/^unlearn: training\.batchSize: 1000000 × data\.maxLength 96 needs about [\d.]+ GiB per step, over the 4\.0 GiB the wasm backend can use/);
    const proc = await fast(['unlearn', ...common(), '--out', '/proc/x', '--name', 'x']);
    expect(proc.stderr).toMatch(/^unlearn: \/proc\/x\/x: cannot create the run folder \(ENOENT at \/proc\/x\)/);
    expect(proc.ms).toBeLessThan(5000);
    const sophia = await u('--optimizer-name', 'sophia', '--optimizer-options', 'estimator=gbn');
    expect(sophia.stderr).toBe('unlearn: sophia: invalid options: estimator: expected one of "gnb", "fisher", "hutchinson" or a function, got "gbn"\n');
    expect(existsSync(out)).toBe(false); // nothing was created by any of them
  });

  it('refuses non-UTF-8 data, non-integer tokenizer ids and another dataset\'s retain eval', async () => {
    const bad = path.join(dir, 'bad-data');
    await cp(dataDir, bad, { recursive: true });
    const forget = path.join(bad, 'forget33.json');
    await writeFile(forget, Buffer.concat([await readFile(forget), Buffer.from([0xff, 0xfe, 0x0a])]));
    const r1 = await cli('unlearn', ...common(), '--data-dir', bad, '--out', path.join(dir, 'pre2'));
    expect(r1.stderr).toMatch(new RegExp(`^unlearn: ${forget}: not UTF-8 text \\(invalid byte 0xff at byte \\d+\\)\\n$`));

    const tok2 = path.join(dir, 'tok-bad');
    await cp(tokDir, tok2, { recursive: true });
    const t = JSON.parse(await readFile(path.join(tok2, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    const first = Object.keys(t.model.vocab)[5];
    t.model.vocab[first] = 5.5;
    await writeFile(path.join(tok2, 'tokenizer.json'), JSON.stringify(t));
    const r2 = await cli('unlearn', ...common(), '--model-tokenizer', tok2, '--out', path.join(dir, 'pre2'));
    expect(r2.stderr).toBe(`unlearn: ${path.join(tok2, 'tokenizer.json')}: model.vocab[${JSON.stringify(first)}] is 5.5, not a non-negative integer id\n`);

    // a retain-only eval of ANOTHER dataset (authors generated from seed 2): same shape, other answers
    const other = path.join(dir, 'other-data');
    await writeDemoDataset(other, { seed: 2, authors: 3, forgetAuthors: 1 });
    const rows = (await readFile(path.join(other, 'forget33.json'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { answer: string });
    const foreign = {
      forget_truth_ratio: { agg_value: 0.5, value_by_index: Object.fromEntries(rows.map((_, i) => [String(i), { score: 0.5 }])) },
      forget_Q_A_ROUGE: { agg_value: 0.1, value_by_index: Object.fromEntries(rows.map((r, i) => [String(i), { rougeL_recall: 0.1, ground_truth: r.answer }])) },
    };
    const evalFile = path.join(dir, 'foreign-eval.json');
    await writeFile(evalFile, JSON.stringify(foreign));
    const r3 = await cli('unlearn', ...common(), '--eval-enabled', 'true', '--eval-retain-eval', evalFile, '--out', path.join(dir, 'pre2'));
    expect(r3.stderr).toMatch(new RegExp(`^unlearn: ${evalFile}: forget item 0 has answer ".*", this run's forget split ".*" — an evaluation of another dataset or split\\n$`));
    const fewer = { forget_truth_ratio: { value_by_index: { 0: { score: 1 } } } };
    await writeFile(evalFile, JSON.stringify(fewer));
    const r4 = await cli('unlearn', ...common(), '--eval-enabled', 'true', '--eval-retain-eval', evalFile, '--out', path.join(dir, 'pre2'));
    expect(r4.stderr).toBe(`unlearn: ${evalFile}: has 1 forget items, this run's forget split has ${rows.length} — the retain-only model must be evaluated on the same forget split (data.forget, data.forgetAuthors, eval.maxItems)\n`);
    expect(existsSync(path.join(dir, 'pre2'))).toBe(false);
  });

  it('a run that fails records an `error` event and summary; a retry with the same --name works with --overwrite', async () => {
    const broken = path.join(dir, 'broken-data');
    await cp(dataDir, broken, { recursive: true });
    await writeFile(path.join(broken, 'retain67.json'), '{"question": "q", "answer": \n');
    const out = path.join(dir, 'fail');
    const r = await cli('unlearn', ...common(), '--data-dir', broken, '--out', out, '--name', 'f', '--training-steps', '2');
    expect(r.code).toBe(1);
    const run = path.join(out, 'f');
    const log = await events(run);
    const err = log.find((e) => e.event === 'error');
    expect(err?.message).toMatch(/retain67\.json/);
    expect((await json(path.join(run, 'summary.json'))).error).toBe(err?.message);
    expect(existsSync(path.join(run, '.lock'))).toBe(false);
    const retry = await cli('unlearn', ...common(), '--out', out, '--name', 'f', '--training-steps', '2', '--overwrite');
    expect(retry.code, retry.stderr).toBe(0);
    expect((await json(path.join(run, 'summary.json'))).error).toBeUndefined();
  });

  it('SIGINT records an `interrupted` event and summary', async () => {
    const out = path.join(dir, 'sigint');
    let sent = false;
    const run = path.join(out, 'i2');
    const proc = spawn(process.execPath, [bin, 'unlearn', ...common(), '--out', out, '--name', 'i2', '--training-steps', '100000', '--training-batch-size', '1'], { stdio: 'ignore' });
    const exit = await new Promise<number | null>((resolve) => {
      const timer = setInterval(() => {
        if (!sent && existsSync(path.join(run, 'log.jsonl'))) {
          void readFile(path.join(run, 'log.jsonl'), 'utf8').then((t) => {
            if (!sent && t.includes('"event":"step"')) {
              sent = true;
              proc.kill('SIGINT');
            }
          });
        }
      }, 20);
      proc.on('exit', (code) => {
        clearInterval(timer);
        resolve(code);
      });
    });
    expect(exit).toBe(130);
    const log = await events(run);
    expect(log[log.length - 1]).toMatchObject({ event: 'interrupted', signal: 'SIGINT' });
    expect((await json(path.join(run, 'summary.json'))).interrupted).toBe('SIGINT');
    expect(existsSync(path.join(run, '.lock'))).toBe(false);
  }, 60_000);

  it('config.yaml round-trips; training.steps overrides epochs (cycling); fractional epochs are honoured', async () => {
    const out = path.join(dir, 'rt');
    const r = await cli('finetune', ...common(), '--out', out, '--name', 'a', '--training-steps', '20', '--training-batch-size', '8');
    expect(r.code, r.stderr).toBe(0);
    const a = await json(path.join(out, 'a', 'summary.json'));
    expect(a.steps).toBe(20); // 60 training rows / 8 = 8 steps per epoch: 20 steps = 2.5 passes
    expect(a.stepsPerEpoch).toBe(8);
    const again = await cli('finetune', '--config', path.join(out, 'a', 'config.yaml'), '--name', 'b', '--quiet');
    expect(again.code, again.stderr).toBe(0);
    const b = await json(path.join(out, 'b', 'summary.json'));
    expect(b.steps).toBe(20);
    expect((await readFile(path.join(out, 'b', 'checkpoint', 'model.safetensors'))).equals(await readFile(path.join(out, 'a', 'checkpoint', 'model.safetensors')))).toBe(true);
    const half = await cli('finetune', ...common(), '--out', out, '--name', 'c', '--training-epochs', '1.5', '--training-batch-size', '8');
    expect(half.code, half.stderr).toBe(0);
    expect((await json(path.join(out, 'c', 'summary.json'))).steps).toBe(12);
  });
});

describe('5. a newcomer', () => {
  it('--version, `pnpm unlearn` from the root, finetune --help says what it evaluates, eval --help lists eval flags only', async () => {
    const v = await cli('--version');
    expect(v.stdout.trim()).toBe(cliVersion());
    expect(cliVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const scripts = (await json(path.join(root, 'package.json'))).scripts as Record<string, string>;
    expect(scripts.unlearn).toBe('node packages/cli/dist/bin.js');
    const viaRoot = await new Promise<string>((resolve) => {
      const p = spawn('sh', ['-c', `${scripts.unlearn} --version`], { cwd: root });
      let s = '';
      p.stdout.on('data', (b: Buffer) => (s += b.toString()));
      p.on('exit', () => resolve(s));
    });
    expect(viaRoot.trim()).toBe(cliVersion());
    const ft = await cli('finetune', '--help');
    expect(ft.stdout).toMatch(/evaluates nothing unless --eval-enabled/);
    const ev = await cli('eval', '--help');
    expect(ev.stdout).toContain('--eval-retain-eval');
    expect(ev.stdout).toContain('--model-path');
    for (const flag of ['--training-epochs', '--optimizer-lr', '--objective-name', '--mask-name', '--resume']) expect(ev.stdout).not.toContain(flag);
  });
});

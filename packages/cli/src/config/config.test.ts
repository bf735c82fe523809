import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { list, register } from '@unlearn/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addConfigFlags, configFlags, flagOverrides } from './flags.js';
import { ConfigError, loadRunConfig, validateRunConfig } from '@unlearn/pipeline';

// The registries are filled by the method packages; make sure the names these tests use exist either way.
const ensure = (kind: 'objective' | 'optimizer' | 'mask', name: string) => {
  if (!list(kind).includes(name)) register(kind, name, () => { throw new Error('test stub: not constructed'); });
};

let dir: string;
beforeAll(async () => {
  for (const n of ['adamw', 'sgd', 'sophia']) ensure('optimizer', n);
  for (const n of ['ga', 'npo']) ensure('objective', n);
  ensure('mask', 'wagle');
  dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function fileWith(name: string, text: string): Promise<string> {
  const f = path.join(dir, name);
  await writeFile(f, text);
  return f;
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('run config', () => {
  it('fills defaults and resolves paths against the config file', async () => {
    const f = await fileWith('ok.yaml', 'optimizer:\n  name: adamw\n  lr: 2.0e-5\nmodel:\n  path: ./target\n');
    const c = await loadRunConfig(f);
    expect(c.optimizer).toEqual({ name: 'adamw', lr: 2e-5, options: {} });
    expect(c.model.path).toBe(path.join(dir, 'target'));
    expect(c.training.batchSize).toBe(4);
    expect(c.backend).toBe('auto');
  });

  it('names the file, the key and the registered names for an unknown method', async () => {
    const f = await fileWith('config.yaml', 'optimizer:\n  name: sophai\n');
    const msg = await errorOf(loadRunConfig(f));
    expect(msg).toBe(`${f}: optimizer.name: "sophai" is not one of ${list('optimizer').join(', ')}`);
    expect(msg).toMatch(/adamw.*sgd.*sophia/);
  });

  it('lists allowed values of enums and allowed keys for typos, one line each', async () => {
    const f = await fileWith('bad.json', JSON.stringify({ backend: 'gpu', training: { epoch: 3, batchSize: 0 } }));
    const lines = (await errorOf(loadRunConfig(f))).split('\n');
    expect(lines).toContain(`${f}: backend: "gpu" is not one of auto, wasm, cpu, webgpu, native, tensorflow, tensorflow-gpu`);
    expect(lines.find((l) => l.startsWith(`${f}: training: unknown key "epoch"`))).toMatch(/allowed: epochs, steps, batchSize/);
    expect(lines.find((l) => l.startsWith(`${f}: training.batchSize:`))).toMatch(/0 — must be greater than 0/);
    expect(lines).toHaveLength(3);
  });

  it('reports wrong types and broken YAML on one line naming the file', async () => {
    expect(await errorOf(loadRunConfig(await fileWith('t.yaml', 'optimizer:\n  lr: fast\n')))).toBe(
      `${path.join(dir, 't.yaml')}: optimizer.lr: expected number, got string "fast"`,
    );
    const yamlMsg = await errorOf(loadRunConfig(await fileWith('broken.yaml', 'optimizer: [unclosed\n')));
    expect(yamlMsg).toMatch(/^\/.*\/broken\.yaml: not valid YAML: /);
    expect(yamlMsg).not.toContain('\n');
    expect(await errorOf(loadRunConfig(path.join(dir, 'missing.yaml')))).toMatch(/^\/.*\/missing\.yaml: cannot read .*ENOENT/);
    expect(await errorOf(loadRunConfig(await fileWith('list.yaml', '- a\n- b\n')))).toMatch(/top level must be a mapping/);
  });

  it('has a flag for every leaf key, and flags override the file (errors name the flag)', async () => {
    const flags = configFlags();
    const keys = flags.map((f) => f.key);
    for (const k of ['backend', 'optimizer.name', 'optimizer.lr', 'optimizer.options', 'training.batchSize', 'mask.keep', 'eval.retainModel', 'log.quiet'])
      expect(keys).toContain(k);
    expect(flags.find((f) => f.key === 'training.batchSize')!.flag).toBe('--training-batch-size');
    expect(flags.find((f) => f.key === 'log.quiet')!.flag).toBe('--quiet');
    expect(new Set(flags.map((f) => f.flag)).size).toBe(flags.length);

    const cmd = addConfigFlags(new Command().exitOverride());
    cmd.parse(['--optimizer-name', 'sgd', '--optimizer-lr', '0.5', '--optimizer-options', 'momentum=0.9,nesterov=true', '--quiet', '--backend', 'cpu'], { from: 'user' });
    const { overrides, flagByKey } = flagOverrides(cmd.opts());
    const f = await fileWith('base.yaml', 'optimizer:\n  name: adamw\n  lr: 1.0e-3\ntraining:\n  epochs: 2\n');
    const c = await loadRunConfig(f, overrides, flagByKey);
    expect(c.optimizer).toEqual({ name: 'sgd', lr: 0.5, options: { momentum: 0.9, nesterov: true } });
    expect(c.training.epochs).toBe(2);
    expect(c.log.quiet).toBe(true);
    expect(c.backend).toBe('cpu');

    const bad = addConfigFlags(new Command().exitOverride());
    bad.parse(['--optimizer-name', 'sophai'], { from: 'user' });
    const o = flagOverrides(bad.opts());
    expect(await errorOf(loadRunConfig(f, o.overrides, o.flagByKey))).toMatch(/^--optimizer-name: "sophai" is not one of .*sophia/);
  });

  it('rejects malformed flag values with the flag name', () => {
    const cmd = addConfigFlags(new Command().exitOverride());
    cmd.parse(['--optimizer-lr', 'fast'], { from: 'user' });
    expect(() => flagOverrides(cmd.opts())).toThrow('--optimizer-lr: expected a number, got "fast"');
    const cmd2 = addConfigFlags(new Command().exitOverride());
    cmd2.parse(['--objective-options', 'beta'], { from: 'user' });
    expect(() => flagOverrides(cmd2.opts())).toThrow(/--objective-options: expected key=value/);
  });

  it('takes the lora section as one flag (--lora r=8,alpha=16,targets=q_proj,v_proj) or key by key', async () => {
    const cmd = addConfigFlags(new Command().exitOverride());
    cmd.parse(['--lora', 'r=8,alpha=16,targets=q_proj,v_proj', '--lora-dropout', '0.05'], { from: 'user' });
    const o = flagOverrides(cmd.opts());
    const config = await loadRunConfig(undefined, o.overrides, o.flagByKey);
    expect(config.lora).toMatchObject({ r: 8, alpha: 16, targets: ['q_proj', 'v_proj'], dropout: 0.05, rslora: false });
    const one = addConfigFlags(new Command().exitOverride());
    one.parse(['--lora-targets', 'q_proj,k_proj', '--lora-r', '4'], { from: 'user' });
    const p = flagOverrides(one.opts());
    expect((await loadRunConfig(undefined, p.overrides, p.flagByKey)).lora).toMatchObject({ r: 4, targets: ['q_proj', 'k_proj'] });
    const bad = addConfigFlags(new Command().exitOverride());
    bad.parse(['--lora', 'r=0'], { from: 'user' });
    const q = flagOverrides(bad.opts());
    expect(await errorOf(loadRunConfig(undefined, q.overrides, q.flagByKey))).toMatch(/^--lora \(lora\.r\): 0 — must be greater than 0/);
  });

  it('validates plain objects too (mask needs a registered name)', () => {
    expect(() => validateRunConfig({ mask: { keep: 0.5 } }, 'x')).toThrow('x: mask.name: is required (expected string)');
    expect(validateRunConfig({ mask: { name: 'wagle' } }).mask).toEqual({ name: 'wagle', keep: 0.5, options: {} });
  });
});

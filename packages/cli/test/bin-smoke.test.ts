// The BUILT bin under plain Node (no vitest aliases): tfjs-core's ESM only loads through @unlearn/tensors' setup,
// so this catches what in-process tests cannot. Needs `pnpm build` first (turbo runs tests after builds).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('built bin (plain node)', () => {
  it('exists: the package was built before its tests', () => {
    expect(existsSync(bin), `${bin} missing: run pnpm build first`).toBe(true);
  });

  it('--help and list run', async () => {
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.stdout).toMatch(/Usage: unlearn/);
    const listed = await run(process.execPath, [bin, 'list']);
    expect(listed.stdout).toMatch(/^optimizers: .*adamw/m);
  });

  it('report on a run summary writes HTML; a bad config exits 1 with one line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-bin-'));
    try {
      const runDir = path.join(dir, 'r1');
      await mkdir(runDir);
      await writeFile(path.join(runDir, 'summary.json'), JSON.stringify({ name: 'r1', method: 'npo + sophia', metrics: { forgetQuality: 0.2, modelUtility: 0.5 }, losses: [{ step: 1, loss: 2 }, { step: 2, loss: 1.5 }] }));
      const r = await run(process.execPath, [bin, 'report', runDir, '--out', path.join(dir, 'rep')]);
      expect(r.stdout).toContain(path.join(dir, 'rep', 'report.html'));
      expect(existsSync(path.join(dir, 'rep', 'report.html'))).toBe(true);
      const bad = path.join(dir, 'bad.yaml');
      await writeFile(bad, 'backend: gpu\n');
      const err = await run(process.execPath, [bin, 'eval', '--config', bad]).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(err?.code).toBe(1);
      expect(err?.stderr.trim()).toBe(`unlearn: ${bad}: backend: "gpu" is not one of auto, wasm, cpu, webgpu, native, tensorflow, tensorflow-gpu`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

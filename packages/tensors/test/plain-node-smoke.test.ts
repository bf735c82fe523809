// The built packages in plain Node: tfjs-core's ESM has extensionless imports only bundlers and vitest resolve, and
// its CommonJS build registers no gradients — so a suite that only runs under vitest can pass while `node` fails.
// turbo's test task depends on build, so dist/ exists in CI; if not, this fails saying how to build.
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageDir, repoRoot, stories260K } from './helpers.js';

const tensorsDist = path.join(packageDir, 'dist/index.js');
const coreDist = path.join(repoRoot, 'packages/core/dist/index.js');

describe('plain Node smoke test of the built packages', () => {
  it('imports dist, initialises wasm, takes a gradient through gather + matmul, reads stories260K', async () => {
    for (const [file, pkg] of [[tensorsDist, '@unlearn/tensors'], [coreDist, '@unlearn/core']]) {
      if (!existsSync(file)) {
        throw new Error(`${file} is missing: build first (pnpm --filter ${pkg} build, or pnpm test from the root, which builds)`);
      }
    }
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(packageDir, 'test/plain-node-smoke.mjs'), tensorsDist, coreDist, stories260K],
      { cwd: packageDir, timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result.backend).toBe('wasm');
    expect(result.reason).toBe('requested "wasm"');
    // E[ids] = [[1,2],[5,6],[1,2]], W = [1,−1]ᵀ → y = [−1,−1,−1], loss = 3; dy = 2y = −2;
    // d table row = dy·Wᵀ = [−2, 2] per occurrence: row 0 twice → [−4, 4], row 1 unused, row 2 → [−2, 2];
    // dW = Σ rows hᵀ·dy = −2·[1+5+1, 2+6+2] = [−14, −20].
    expect(result.loss).toBe(3);
    expect(result.dTable).toEqual([-4, 4, 0, 0, -2, 2]);
    expect(result.dWeight).toEqual([-14, -20]);
    expect(result.leaked).toBe(0);
    expect(result.safetensors).toEqual({
      count: 47,
      embedShape: [512, 64],
      metadata: { format: 'pt', source: 'karpathy/llama2.c stories260K (converted)' },
    });
    expect(result.core.specificationVersion).toBe('v1');
    expect(result.core.exports).toEqual(expect.arrayContaining(['register', 'get', 'list']));
  });

  it('the README snippet runs as written', async () => {
    if (!existsSync(tensorsDist)) throw new Error(`${tensorsDist} is missing: build first (pnpm --filter @unlearn/tensors build)`);
    const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
    const snippet = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet, 'README.md starts with a js snippet').toBeTruthy();
    // Inside the package, so `@unlearn/tensors` resolves to this package's dist through its own exports map.
    const script = path.join(packageDir, `test/.readme-snippet-${process.pid}.mjs`);
    await fsp.writeFile(script, snippet!);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: repoRoot, timeout: 60_000 });
      expect(stdout).toMatch(/^backend: (native|wasm) \(/m);
      const [, loss, norm] = /^loss (\d+\.\d+), gradient norm (\d+\.\d+)$/m.exec(stdout) ?? [];
      // Three next-token predictions over a 512-token vocabulary from a trained model: a finite, non-trivial loss.
      expect(Number(loss)).toBeGreaterThan(0);
      expect(Number(loss)).toBeLessThan(20);
      expect(Number(norm)).toBeGreaterThan(0);
    } finally {
      await fsp.rm(script, { force: true });
    }
  });
});

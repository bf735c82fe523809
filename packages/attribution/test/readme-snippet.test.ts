// The README's snippet, run as written in plain Node against the built packages.
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '../..');

describe('README', () => {
  it('the WAGLE snippet runs as written: exact keep count, save → load round trip', async () => {
    for (const pkg of ['core', 'tensors', 'models', 'objectives', 'attribution']) {
      const dist = path.join(repoRoot, 'packages', pkg, 'dist/index.js');
      if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (pnpm build)`);
    }
    const snippet = /```js\n([\s\S]*?)```/.exec(readFileSync(path.join(packageDir, 'README.md'), 'utf8'))?.[1];
    expect(snippet, 'README.md has a js snippet').toBeTruthy();
    const script = path.join(packageDir, `test/.readme-snippet-${process.pid}.mjs`);
    await fsp.writeFile(script, snippet!);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: repoRoot, timeout: 100_000 });
      const kept = /^kept (\d+) of (\d+) entries \((\d+\.\d+)%\)$/m.exec(stdout);
      expect(kept, stdout).toBeTruthy();
      const total = Number(kept![2]);
      expect(total).toBe(260032); // stories260K's parameter count
      expect(Number(kept![1])).toBe(Math.round(0.05 * total));
      expect(stdout).toMatch(new RegExp(`^reloaded 47 tensors, ${kept![1]} entries kept$`, 'm'));
    } finally {
      await fsp.rm(script, { force: true });
    }
  });
});

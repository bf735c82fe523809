// The README's snippet, run as written in plain Node against the built packages (as a user would).
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '../..');

describe('README', () => {
  it('the GradDiff + Sophia snippet runs as written: forget NLL up, retain NLL not up, win rate reported', async () => {
    for (const pkg of ['core', 'tensors', 'models', 'objectives', 'optim']) {
      const dist = path.join(repoRoot, 'packages', pkg, 'dist/index.js');
      if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (pnpm build)`);
    }
    const snippet = /```js\n([\s\S]*?)```/.exec(readFileSync(path.join(packageDir, 'README.md'), 'utf8'))?.[1];
    expect(snippet, 'README.md has a js snippet').toBeTruthy();
    // Inside the package, so `@unlearn/optim` resolves to this package's dist through its exports map.
    const script = path.join(packageDir, `test/.readme-snippet-${process.pid}.mjs`);
    await fsp.writeFile(script, snippet!);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: repoRoot, timeout: 100_000 });
      const read = (when: string) => {
        const m = new RegExp(`^${when}: forget NLL (\\d+\\.\\d+), retain NLL (\\d+\\.\\d+)$`, 'm').exec(stdout);
        expect(m, `${when} line in:\n${stdout}`).toBeTruthy();
        return { forget: Number(m![1]), retain: Number(m![2]) };
      };
      const before = read('before');
      const after = read('after');
      expect(after.forget).toBeGreaterThan(before.forget + 5);
      expect(after.retain).toBeLessThan(before.retain);
      const winRates = [...stdout.matchAll(/Sophia win rate (\d\.\d\d)/g)].map((m) => Number(m[1]));
      expect(winRates.length).toBe(12);
      expect(winRates.some((w) => w > 0 && w < 1)).toBe(true);
    } finally {
      await fsp.rm(script, { force: true });
    }
  });
});

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
  it('the custom-objective snippet runs as written and unlearns the forget sentence', async () => {
    for (const pkg of ['core', 'tensors', 'models', 'objectives']) {
      const dist = path.join(repoRoot, 'packages', pkg, 'dist/index.js');
      if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (pnpm build)`);
    }
    const snippet = /```js\n([\s\S]*?)```/.exec(readFileSync(path.join(packageDir, 'README.md'), 'utf8'))?.[1];
    expect(snippet, 'README.md has a js snippet').toBeTruthy();
    // Inside the package, so `@unlearn/objectives` resolves to this package's dist through its exports map.
    const script = path.join(packageDir, `test/.readme-snippet-${process.pid}.mjs`);
    await fsp.writeFile(script, snippet!);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: repoRoot, timeout: 100_000 });
      const read = (when: string) => {
        const m = new RegExp(`^${when}:\\s+forget NLL (\\d+\\.\\d+), retain NLL (\\d+\\.\\d+)$`, 'm').exec(stdout);
        expect(m, `${when} line in:\n${stdout}`).toBeTruthy();
        return { forget: Number(m![1]), retain: Number(m![2]) };
      };
      const before = read('before');
      const after = read('after');
      expect(before.forget).toBeCloseTo(0.18, 2); // the story llama2.c's reference scores at 0.1804 nats
      expect(after.forget).toBeGreaterThan(before.forget + 2);
      expect(after.retain).toBeLessThan(before.retain + 0.5);
    } finally {
      await fsp.rm(script, { force: true });
    }
  });
});

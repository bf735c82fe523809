// @unlearn/core's README snippet (a user-registered objective run by the Trainer with a registry optimizer), run as
// written in plain Node against the built packages. It lives here because optim's devDependencies (models) are what
// the snippet imports; core itself depends on no implementation.
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '../..');

describe('@unlearn/core README', () => {
  it('registers a custom objective and runs it with sophia: −NLL falls every step, optimizers listed', async () => {
    for (const pkg of ['core', 'tensors', 'models', 'optim']) {
      const dist = path.join(repoRoot, 'packages', pkg, 'dist/index.js');
      if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (pnpm build)`);
    }
    const snippet = /```js\n([\s\S]*?)```/.exec(readFileSync(path.join(repoRoot, 'packages/core/README.md'), 'utf8'))?.[1];
    expect(snippet, 'core README.md has a js snippet').toBeTruthy();
    const script = path.join(packageDir, `test/.core-readme-${process.pid}.mjs`);
    await fsp.writeFile(script, snippet!);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: repoRoot, timeout: 100_000 });
      expect(stdout).toMatch(/^optimizers: .*\bsophia\b/m);
      const losses = [...stdout.matchAll(/^step \d: loss (-?\d+\.\d+)/gm)].map((m) => Number(m[1]));
      expect(losses).toHaveLength(5);
      for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
      expect(stdout).toMatch(/done after 5 steps/);
    } finally {
      await fsp.rm(script, { force: true });
    }
  });
});

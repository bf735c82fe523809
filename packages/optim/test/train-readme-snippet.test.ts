// @unlearn/train's README snippet (a user-registered objective run by the Trainer with a registry optimizer), run as
// written in plain Node against the built packages. It lives here because optim's devDependencies (models, train) are
// what the snippet imports; train itself depends on no optimizer.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runReadmeSnippet } from '@unlearn/test-utils';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('@unlearn/train README', () => {
  it('registers a custom objective and runs it with sophia: −NLL falls every step, optimizers listed', async () => {
    const stdout = await runReadmeSnippet(packageDir, {
      built: ['core', 'tensors', 'models', 'optim', 'train'], readme: path.join(REPO_ROOT, 'packages/train/README.md'),
    });
    expect(stdout).toMatch(/^optimizers: .*\bsophia\b/m);
    const losses = [...stdout.matchAll(/^step \d: loss (-?\d+\.\d+)/gm)].map((m) => Number(m[1]));
    expect(losses).toHaveLength(5);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    expect(stdout).toMatch(/done after 5 steps/);
  });
});

// The repository's import arrows point down (scripts/check-layering.mjs), and the checker catches an upward one.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/index.js';
// @ts-expect-error — a plain .mjs script without types
import { checkLayering } from '../../../scripts/check-layering.mjs';

describe('layering', () => {
  it('no package depends on or imports one in its own or a higher layer', () => {
    expect(checkLayering(path.join(REPO_ROOT, 'packages'))).toEqual([]);
  });

  it('reports an upward import, an undeclared one and a test-utils dependency, one line each', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-layers-'));
    try {
      const pkg = async (name: string, manifest: object, src: string) => {
        await mkdir(path.join(dir, name, 'src'), { recursive: true });
        await writeFile(path.join(dir, name, 'package.json'), JSON.stringify({ name: `@unlearn/${name}`, ...manifest }));
        await writeFile(path.join(dir, name, 'src', 'index.ts'), src);
      };
      await pkg('core', { dependencies: { '@unlearn/train': 'workspace:^' } }, "import { Trainer } from '@unlearn/train';\n");
      await pkg('train', { dependencies: { '@unlearn/test-utils': 'workspace:*' } }, "import { get } from '@unlearn/core';\n");
      const problems: string[] = checkLayering(dir);
      expect(problems).toEqual([
        `${path.join(dir, 'core', 'package.json')}: @unlearn/core (layer 0) depends on @unlearn/train (layer 3); arrows must point down`,
        `${path.join(dir, 'core', 'src', 'index.ts')}: @unlearn/core (layer 0) depends on @unlearn/train (layer 3); arrows must point down`,
        `${path.join(dir, 'train', 'package.json')}: @unlearn/train uses @unlearn/test-utils outside its tests`,
        `${path.join(dir, 'train', 'src', 'index.ts')}: imports @unlearn/core, which ${path.join(dir, 'train', 'package.json')} does not declare as a dependency`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

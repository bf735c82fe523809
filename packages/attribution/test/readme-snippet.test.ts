// The README's snippet, run as written in plain Node against the built packages.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeSnippet } from '@unlearn/test-utils';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('the WAGLE snippet runs as written: exact keep count, save → load round trip', async () => {
    const stdout = await runReadmeSnippet(packageDir, { built: ['core', 'tensors', 'models', 'objectives', 'attribution'] });
    const kept = /^kept (\d+) of (\d+) entries \((\d+\.\d+)%\)$/m.exec(stdout);
    expect(kept, stdout).toBeTruthy();
    const total = Number(kept![2]);
    expect(total).toBe(260032); // stories260K's parameter count
    expect(Number(kept![1])).toBe(Math.round(0.05 * total));
    expect(stdout).toMatch(new RegExp(`^reloaded 47 tensors, ${kept![1]} entries kept$`, 'm'));
  });
});

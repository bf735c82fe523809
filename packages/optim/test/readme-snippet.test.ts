// The README's snippet, run as written in plain Node against the built packages (as a user would).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeSnippet } from '@unlearn/test-utils';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('the GradDiff + Sophia snippet runs as written: forget NLL up, retain NLL not up, win rate reported', async () => {
    const stdout = await runReadmeSnippet(packageDir, { built: ['core', 'tensors', 'models', 'objectives', 'optim', 'train'] });
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
  });
});

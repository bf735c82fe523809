// The README's custom pipeline (own objective + Sophia + WAGLE mask + two metrics), run as written in plain Node
// against the built packages.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeSnippet } from '@unlearn/test-utils';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('the custom pipeline runs as written: exact WAGLE keep count, Sophia steps, the forget answers become less likely', async () => {
    const stdout = await runReadmeSnippet(packageDir, {
      built: ['core', 'tensors', 'models', 'data', 'objectives', 'optim', 'attribution', 'metrics', 'train', 'pipeline'], timeout: 200_000,
    });
    const mask = /^mask keeps (\d+) of (\d+) weights; (\d+) Sophia steps, mean win rate (\d\.\d\d)$/m.exec(stdout);
    expect(mask, stdout).toBeTruthy();
    expect(Number(mask![1])).toBe(Math.round(0.3 * Number(mask![2]))); // WAGLE's global top-k keeps exactly round(keep·N)
    expect(Number(mask![3])).toBeGreaterThan(0);
    const m = /^forget probability (\d\.\d+) -> (\d\.\d+); extraction strength (\d\.\d+) -> (\d\.\d+)$/m.exec(stdout);
    expect(m, stdout).toBeTruthy();
    expect(Number(m![2])).toBeLessThan(Number(m![1])); // unlearning lowered the forget answers' probability
    expect(/^retain probability (\d\.\d+)$/m.exec(stdout), stdout).toBeTruthy();
  }, 240_000);
});

// The README's snippet, run as written in plain Node against the built packages.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeSnippet } from '@unlearn/test-utils';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('the custom-objective snippet runs as written and unlearns the forget sentence', async () => {
    const stdout = await runReadmeSnippet(packageDir, { built: ['core', 'tensors', 'models', 'objectives'] });
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
  });
});

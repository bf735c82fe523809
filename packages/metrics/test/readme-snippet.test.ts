// The README's first snippet (a user registers a metric in a few lines and runs it with two registered ones), run as
// written in plain Node against the built packages.
import path from 'node:path';
import { runReadmeSnippet } from '@unlearn/test-utils';
import { describe, expect, it } from 'vitest';

const packageDir = path.resolve(import.meta.dirname, '..');

describe('README', () => {
  it('registers a metric, resolves its dependency, and computes it from the dependency', async () => {
    const stdout = await runReadmeSnippet(packageDir, { built: ['core', 'tensors', 'models', 'data', 'metrics'], timeout: 100_000 });
    expect(stdout).toMatch(/^registered: true$/m);
    const computed = /^computed: (.*)$/m.exec(stdout)![1].split(' ');
    expect(computed).toEqual(['forget_Q_A_PARA_Prob', 'forget_Q_A_PERT_Prob', 'forget_truth_ratio', 'forget_Q_A_ROUGE', 'forget_Q_A_Prob', 'forget_bits_per_token']);
    const m = /^bits (\S+) nats (\S+)$/m.exec(stdout)!;
    expect(Number(m[1])).toBeCloseTo(Number(m[2]) / Math.LN2, 12);
    expect(JSON.parse(/^settings: (.*)$/m.exec(stdout)![1])).toMatchObject({ maxNewTokens: 16, boundary: 'open-unlearning', template: 'plain', maxLength: 512 });
  }, 120_000);
});

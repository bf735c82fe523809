// The README's snippet, run as written in plain Node against the built packages.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReadmeSnippet } from '@unlearn/test-utils';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('the snippet runs as written: NF4 codes as numpy gives them, 35 Linear weights quantized, Q', async () => {
    const stdout = await runReadmeSnippet(packageDir, { built: ['core', 'random', 'tensors', 'data', 'models', 'metrics', 'robustness'] });
    const goldens = JSON.parse(readFileSync(path.join(packageDir, 'test/quantizer-goldens.json'), 'utf8'));
    const qproj = goldens.cases.find((c: { name: string }) => c.name === 'stories260K:model.layers.0.self_attn.q_proj.weight');
    const codes = [...(qproj.nf4.codes as string).slice(0, 8)].map((h) => parseInt(h, 16)).join(',');
    expect(stdout).toContain(`nf4 codes ${codes}, first absmax `);
    expect(stdout).toMatch(/^int4-g128: 35 tensors, \d+ weights, max error 0\.\d{4}$/m);
    expect(stdout).toMatch(/^Q = 0\.404$/m);
  });
});

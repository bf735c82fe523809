// The runner on its own (no model work): dependency order, each metric once, results visible to dependents,
// data and names checked before anything runs, cycles refused. Uses a stub model and tokenizer nothing touches.
import { get, list, unregister, type GenerativeLM, type Tokenizer } from '@unlearn/core';
import { afterAll, describe, expect, it } from 'vitest';
import { templateFormatter } from '@unlearn/data';
import { defineMetric, dependency, encoded, evaluateMetrics, resolveMetrics, TOFU_METRICS, type EvalContext } from '../src/index.js';

const model = { config: { max_position_embeddings: 64 } } as unknown as GenerativeLM;
const tokenizer = { specialTokens: {} } as unknown as Tokenizer;
const calls: string[] = [];
const defined = ['t_a', 't_b', 't_c', 't_loop1', 't_loop2'];
afterAll(() => defined.forEach((n) => unregister('metric', n)));

defineMetric({ name: 't_a', description: 'a', compute: () => (calls.push('t_a'), { agg_value: 2 }) });
defineMetric({
  name: 't_b', description: 'b = 10 a', dependsOn: ['t_a'],
  compute: (ctx) => (calls.push('t_b'), { agg_value: 10 * (dependency(ctx, 't_b', 't_a').agg_value as number) }),
});
defineMetric({
  name: 't_c', description: 'c = a + b', dependsOn: ['t_b', 't_a'],
  compute: (ctx) => (calls.push('t_c'), { agg_value: (ctx.results.t_a.agg_value as number) + (ctx.results.t_b.agg_value as number) }),
});
defineMetric({ name: 't_loop1', description: '', dependsOn: ['t_loop2'], compute: () => ({ agg_value: 0 }) });
defineMetric({ name: 't_loop2', description: '', dependsOn: ['t_loop1'], compute: () => ({ agg_value: 0 }) });

describe('evaluateMetrics', () => {
  it('runs dependencies first, each once, and returns every computed metric', async () => {
    const r = await evaluateMetrics(['t_c', 't_b'], model, tokenizer, {});
    expect(calls).toEqual(['t_a', 't_b', 't_c']);
    expect(Object.keys(r.metrics)).toEqual(['t_a', 't_b', 't_c']);
    expect(r.metrics.t_c.agg_value).toBe(22);
    expect(r.settings).toMatchObject({ maxLength: 64, maxNewTokens: 200, batchSize: 32, boundary: 'project', template: 'plain' });
  });

  it('is a registered core Metric with specificationVersion v1', () => {
    const m = get('metric', 'forget_truth_ratio')();
    expect(m).toMatchObject({ name: 'forget_truth_ratio', specificationVersion: 'v1', dependsOn: ['forget_Q_A_PARA_Prob', 'forget_Q_A_PERT_Prob'] });
    for (const name of TOFU_METRICS) expect(list('metric')).toContain(name);
  });

  it('checks names, cycles and data before any model work', async () => {
    await expect(evaluateMetrics(['nope'], model, tokenizer, {})).rejects.toThrow(/^unknown metric "nope"; known metrics: .*forget_Q_A_Prob/);
    expect(() => resolveMetrics(['t_loop1'])).toThrow('metrics: dependency cycle t_loop1 -> t_loop2 -> t_loop1');
    await expect(evaluateMetrics(['forget_truth_ratio'], model, tokenizer, { forget: [] })).rejects.toThrow(
      'metric forget_Q_A_PARA_Prob: needs data.forget (rows), which is empty');
    await expect(evaluateMetrics(['privleak'], model, tokenizer, { forget: [{}] })).rejects.toThrow(
      'metric mia_min_k: needs data.holdout (rows), which is missing');
  });

  it("warns when open-unlearning's pad = EOS mask would hide EOS tokens inside a sequence (Llama-3 chat)", async () => {
    // characters → code + 3, <s> = 1, </s> = 2, no pad token (open-unlearning then pads with EOS)
    const enc = async (t: string) => t.split(/(<\/s>)/).flatMap((p) => (p === '</s>' ? [2] : [...p].map((c) => c.charCodeAt(0) + 3)));
    const tok = {
      bosTokenId: 1, eosTokenId: 2, padTokenId: null, vocabSize: 131, specialTokens: { bos_token: '<s>', eos_token: '</s>' },
      encode: enc, encodeBatch: (ts: readonly string[]) => Promise.all(ts.map(enc)), decode: async () => '',
    } as unknown as Tokenizer;
    const formatter = templateFormatter(tok, { template: 'chat', boundary: 'open-unlearning', systemPrompt: '', chatTemplate: "{% for m in messages %}{{ m['content'] }}</s>{% endfor %}" });
    const warnings: string[] = [];
    const ctx = {
      tokenizer: tok, formatter, data: { forget: [{ question: 'Q', answer: 'A' }, { question: 'R', answer: 'B' }] }, memo: new Map(),
      settings: { boundary: 'open-unlearning', maxLength: 100 }, warn: (m: string) => warnings.push(m),
    } as unknown as EvalContext;
    const { examples } = await encoded(ctx, 'forget', 'answer');
    expect(examples[0].inputIds).toEqual([84, 2, 68, 2]); // Q</s>A</s>: the user turn's EOS is inside the sequence
    expect(warnings).toEqual(['eval: forget answer: 2 of 2 rows hold EOS inside the sequence; open-unlearning masks those positions (pad = EOS), this evaluation does not']);
  });
});

// Retain logs as open-unlearning writes them (Python's json: NaN / Infinity bare, extra keys, "retain" sub-dicts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePythonJson, readRetainLogs, retainTruthRatios } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retain-logs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

// the shape of open-unlearning's saves/eval/tofu_*_retain90/TOFU_EVAL.json (json.dump of numpy floats)
const TOFU_EVAL = `{
  "forget_Q_A_PARA_Prob": {"agg_value": 0.1, "value_by_index": {"0": {"prob": 0.1, "avg_loss": 2.3}}},
  "forget_truth_ratio": {"agg_value": 0.61, "value_by_index": {"0": {"score": 0.5}, "1": {"score": NaN}, "2": {"score": 1.25}}},
  "mia_min_k": {"forget": {"agg_value": 2.0, "value_by_index": {}}, "holdout": {"agg_value": Infinity}, "auc": 0.43, "agg_value": 0.43},
  "note": "NaN inside a string stays \\"NaN\\""
}`;

describe("retain logs (open-unlearning's TOFU_EVAL.json as it is)", () => {
  it('parses bare NaN / Infinity as null and leaves strings alone', () => {
    const v = parsePythonJson(TOFU_EVAL) as Record<string, any>;
    expect(v.forget_truth_ratio.value_by_index['1'].score).toBeNull();
    expect(v.mia_min_k.holdout.agg_value).toBeNull();
    expect(v.note).toBe('NaN inside a string stays "NaN"');
  });

  it('reads the file and gives the finite truth ratios', async () => {
    const file = path.join(dir, 'TOFU_EVAL.json');
    await writeFile(file, TOFU_EVAL);
    const logs = await readRetainLogs(file);
    expect(retainTruthRatios(logs)).toEqual([0.5, 1.25]);
    expect((logs.mia_min_k as { agg_value: number }).agg_value).toBe(0.43);
  });

  it('rejects a file without forget_truth_ratio in one line naming it', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{"forget_Q_A_Prob": {}}');
    await expect(readRetainLogs(file)).rejects.toThrow(/bad\.json: not a TOFU evaluation with forget_truth_ratio\.value_by_index$/);
    await expect(readRetainLogs(path.join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read retain-model logs/);
  });
});

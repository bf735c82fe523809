// The measured example of packages/metrics/README.md ("Two answer boundaries"): the four compat-checked metrics on the
// first forget10 / real_authors rows of TOFU with stories260K, under the project boundary and the open-unlearning
// one, next to the Python re-typing of open-unlearning (test/fixtures/open-unlearning-reference.json).
// Run from the repo root after `pnpm build`: node packages/metrics/scripts/boundary-example.mjs
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadTofuSuiteData } from '@unlearn/data';
import { loadModel, loadTokenizer } from '@unlearn/models';
import { initBackend } from '@unlearn/tensors';
import { evaluateMetrics } from '@unlearn/metrics';

const here = path.dirname(new URL(import.meta.url).pathname);
const shared = path.resolve(here, '../../../../shared');
const golden = JSON.parse(readFileSync(path.join(here, '../test/fixtures/open-unlearning-reference.json'), 'utf8'));
await initBackend('wasm');
const modelDir = path.join(shared, 'models/stories260K');
const model = await loadModel(modelDir, { trainable: false });
const tokenizer = await loadTokenizer(modelDir);
const N = golden.forget_Q_A_Prob.length;
const rows = await loadTofuSuiteData(path.join(shared, 'data/tofu'), { limit: N });
const names = ['forget_Q_A_Prob', 'forget_truth_ratio', 'forget_Q_A_ROUGE', 'ra_Q_A_Prob_normalised'];
const runs = {};
for (const boundary of ['project', 'open-unlearning']) {
  const t0 = performance.now();
  runs[boundary] = await evaluateMetrics(names, model, tokenizer, { forget: rows.forget, realAuthors: rows.realAuthors },
    { template: { boundary }, maxNewTokens: 200, onWarning: () => {} });
  runs[boundary].seconds = (performance.now() - t0) / 1000;
}
const item = (r, name, i, key) => r.metrics[name].value_by_index[String(i)][key];
const fmt = (x) => (typeof x === 'number' ? x.toPrecision(6) : String(x));
console.log('| item | metric | open-unlearning (Python) | boundary open-unlearning | boundary project |');
console.log('|---|---|---|---|---|');
let worst = 0;
for (let i = 0; i < N; i++) {
  for (const [name, key, g] of [
    ['forget_Q_A_Prob', 'prob', golden.forget_Q_A_Prob[i].prob], ['forget_truth_ratio', 'score', golden.forget_truth_ratio[i].score],
    ['forget_Q_A_ROUGE', 'rougeL_recall', golden.forget_Q_A_ROUGE[i].rougeL_recall], ['ra_Q_A_Prob_normalised', 'prob', golden.ra_Q_A_Prob_normalised[i].prob],
  ]) {
    const c = item(runs['open-unlearning'], name, i, key);
    if (key !== 'rougeL_recall') worst = Math.max(worst, Math.abs(c - g) / Math.abs(g));
    console.log(`| ${i} | ${name} | ${fmt(g)} | ${fmt(c)} | ${fmt(item(runs.project, name, i, key))} |`);
  }
}
console.log(`\nworst relative difference, boundary open-unlearning vs Python: ${worst.toExponential(2)}`);
for (const b of Object.keys(runs)) console.log(`${b}: ${runs[b].seconds.toFixed(1)} s (wasm; ${N} forget + ${N} real-author items, 200 new tokens)`);
model.dispose();

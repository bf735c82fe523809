#!/usr/bin/env node
// Full TOFU evaluation of the real stories260K Llama on TOFU forget10 (+ holdout10, retain_perturbed, real_authors,
// world_facts), on the wasm backend, exactly as tofuSuite runs it. Writes the open-unlearning-layout JSON and a timing
// summary. Not part of the test suite (it takes minutes). Uses the BUILT packages (run `pnpm build` first):
//   node packages/metrics/scripts/tofu-stories260k.mjs [--backend wasm] [--limit N] [--max-new-tokens 200] [--retain-logs F]
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '@unlearn/tensors';
import { loadModel, loadTokenizer } from '@unlearn/models';
import { loadTofuSuiteData } from '@unlearn/data';
import { tofuSuite } from '@unlearn/metrics';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '../../../../shared');
const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    limit: { type: 'string' },
    'max-new-tokens': { type: 'string', default: '200' },
    out: { type: 'string', default: path.join(here, '../test/fixtures/tofu-stories260k-forget10.json') },
    'retain-logs': { type: 'string' },
  },
});


const t0 = performance.now();
const backend = await initBackend(values.backend);
const modelDir = path.join(shared, 'models/stories260K');
const model = await loadModel(modelDir, { trainable: false });
const tokenizer = await loadTokenizer(modelDir);
const data = await loadTofuSuiteData(path.join(shared, 'data/tofu'), {
  forget: 'forget10', limit: values.limit === undefined ? undefined : Number(values.limit),
});
const tLoad = performance.now() - t0;
let lastLine = 0;
const result = await tofuSuite(model, tokenizer, data, {
  maxNewTokens: Number(values['max-new-tokens']),
  outputPath: values.out,
  retainLogsPath: values['retain-logs'] ?? null,
  onProgress: (m) => {
    if (performance.now() - lastLine > 5000) {
      lastLine = performance.now();
      process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);
    }
  },
});
const total = performance.now() - t0;
model.dispose();

const rows = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.length]));
const summary = {
  backend: backend.backend,
  details: backend.details,
  rows,
  maxNewTokens: Number(values['max-new-tokens']),
  seconds: { total: total / 1000, load: tLoad / 1000, ...Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, v / 1000])) },
  agg: Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [k, v.agg_value])),
  warnings: result.warnings,
};
await writeFile(values.out.replace(/\.json$/, '.timings.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(`backend ${summary.backend}; rows ${JSON.stringify(rows)}; total ${summary.seconds.total.toFixed(1)} s`);
console.log('phase                      seconds');
for (const [k, v] of Object.entries(summary.seconds)) console.log(`${k.padEnd(26)} ${v.toFixed(1)}`);
console.log('metric                     agg_value');
for (const [k, v] of Object.entries(summary.agg)) console.log(`${k.padEnd(26)} ${v === null ? 'null' : v.toFixed(4)}`);

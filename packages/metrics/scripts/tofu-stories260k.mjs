#!/usr/bin/env node
// Full TOFU evaluation of the real stories260K Llama on TOFU forget10 (+ holdout10, retain_perturbed, real_authors,
// world_facts), on the wasm backend, exactly as tofuSuite runs it. Writes the open-unlearning-layout JSON and a timing
// summary. Not part of the test suite (it takes minutes). Runs the workspace SOURCES (bundled on the fly with esbuild,
// the repo's dev dependency), so no package needs building first:
//   node packages/metrics/scripts/tofu-stories260k.mjs [--backend wasm] [--limit N] [--max-new-tokens 200] [--retain-logs F]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

/** Bundles the named exports of workspace packages from their src/ (npm dependencies stay external) and imports them. */
async function importWorkspace(packagesDir, code) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unlearn-script-'));
  const outfile = path.join(dir, 'workspace.mjs');
  try {
    await build({
      stdin: { contents: code, resolveDir: packagesDir, loader: 'ts' },
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'error',
      plugins: [{
        name: 'workspace-sources',
        setup(b) {
          b.onResolve({ filter: /^@unlearn\/[a-z-]+$/ }, (a) => ({ path: path.join(packagesDir, a.path.slice('@unlearn/'.length), 'src/index.ts') }));
          // npm dependencies stay external, pinned to the file Node would load from the importing package
          b.onResolve({ filter: /^[^./]/ }, (a) => {
            if (a.path.startsWith('@unlearn/')) return undefined;
            if (a.path.startsWith('node:') || builtinModules.includes(a.path)) return { path: a.path, external: true };
            return { path: createRequire(path.join(a.resolveDir, 'index.js')).resolve(a.path), external: true };
          });
        },
      }],
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

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

const { initBackend, loadModel, loadTokenizer, loadTofuSuiteData, tofuSuite } = await importWorkspace(
  path.resolve(here, '../..'),
  `export { initBackend } from '@unlearn/tensors';
   export { loadModel, loadTokenizer } from '@unlearn/models';
   export { loadTofuSuiteData, tofuSuite } from '@unlearn/metrics';`,
);

const t0 = performance.now();
const backend = await initBackend(values.backend);
const modelDir = path.join(shared, 'models/stories260K');
const model = await loadModel(modelDir, { trainable: false });
const tokenizer = await loadTokenizer(modelDir);
const data = await loadTofuSuiteData(path.join(shared, 'data/tofu'), {
  forgetSplit: 'forget10', limit: values.limit === undefined ? undefined : Number(values.limit),
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

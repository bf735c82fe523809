// Forward and generation speed of stories260K (../shared/models/stories260K) on one tfjs backend.
// Usage: pnpm --filter @unlearn/models build && node packages/models/bench/speed.mjs [--backend wasm] [--reps 5]
// Prints a Markdown table and writes bench/results/speed-<backend>.json next to this script.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@unlearn/tensors';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTokens, loadModel } from '../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const backendName = arg('backend', 'wasm');
const reps = Number(arg('reps', 5));
const modelDir = path.resolve(here, '../../../../shared/models/stories260K');

const report = await initBackend(backendName);
const model = await loadModel(modelDir);
const rows = [];

/** Median seconds of `reps` runs of fn (after one warm-up run). */
async function time(fn) {
  await fn();
  const seconds = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    seconds.push((performance.now() - t0) / 1000);
  }
  seconds.sort((a, b) => a - b);
  return seconds[Math.floor(seconds.length / 2)];
}

function randomIds(batch, seq) {
  const ids = Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, t) => (b * 131 + t * 17) % model.config.vocab_size));
  return tf.tensor2d(ids, [batch, seq], 'int32');
}

for (const [batch, seq] of [[1, 256], [8, 256]]) {
  const ids = randomIds(batch, seq);
  const fwd = await time(async () => {
    const { logits } = model.forward({ inputIds: ids });
    await logits.data();
    logits.dispose();
  });
  rows.push({ task: 'forward', batch, seq, seconds: fwd, tokensPerSecond: (batch * seq) / fwd });
  const vars = [...model.params.values()];
  const train = await time(async () => {
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const { logits } = model.forward({ inputIds: ids });
      return tf.mean(tf.logSumExp(logits, -1)); // a scalar that touches every logit
    }), vars);
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  });
  rows.push({ task: 'forward+backward', batch, seq, seconds: train, tokensPerSecond: (batch * seq) / train });
  ids.dispose();
}

for (const [batch, useCache] of [[1, true], [8, true], [1, false]]) {
  const newTokens = 200;
  const prompts = Array.from({ length: batch }, () => [1]);
  const gen = await time(() => generateTokens(model, prompts, { maxNewTokens: newTokens, eosTokenId: null, useCache }));
  rows.push({ task: `generate greedy ${useCache ? 'KV cache' : 'no cache'}`, batch, seq: newTokens, seconds: gen, tokensPerSecond: (batch * newTokens) / gen });
}
model.dispose();

const result = {
  model: 'stories260K', backend: tf.getBackend(), backendDetails: report.details, reps, statistic: 'median',
  cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), rows,
};
console.log(`stories260K on ${result.backend} (${JSON.stringify(report.details)}), median of ${reps}\n`);
console.log('| task | batch | tokens/row | seconds | tokens/s |\n|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.task} | ${r.batch} | ${r.seq} | ${r.seconds.toFixed(3)} | ${Math.round(r.tokensPerSecond).toLocaleString('en-US')} |`);
const outDir = path.join(here, 'results');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `speed-${result.backend}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), file)}`);

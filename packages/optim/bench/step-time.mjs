// Step time of AdamW vs Sophia with each Hessian estimator on stories260K (GradDiff objective, forget + retain
// batches), through the Trainer. Sophia's estimator runs every step here (k = 1) so its cost is measured; the
// amortised column assumes the paper's k = 10 (gnb, hutchinson) — fisher always runs every step.
//   node packages/optim/bench/step-time.mjs [--backend wasm] [--rows 8] [--seq 64] [--steps 6]
// Prints a Markdown table and writes packages/optim/bench/results/step-time.<backend>.json.
import path from 'node:path';
import os from 'node:os';
import { Trainer } from '@unlearn/train';
import { graddiff } from '@unlearn/objectives';
import { adamw, sophia } from '../dist/index.js';
import { flag, setup, storyBatches, table, writeJsonAtomic } from './common.mjs';

const backend = flag('backend', 'wasm');
const rows = Number(flag('rows', '8'));
const seq = Number(flag('seq', '64'));
const steps = Number(flag('steps', '6'));
const warmup = 2;

const { report, model } = await setup(backend);
const batch = await storyBatches(rows, seq);
const start = new Map([...model.params].map(([n, v]) => [n, v.clone()]));
const modes = {
  adamw: () => adamw({ lr: 1e-4 }),
  'sophia-gnb': () => sophia({ lr: 1e-4, estimator: 'gnb', k: 1 }),
  'sophia-fisher': () => sophia({ lr: 1e-4, estimator: 'fisher' }),
  'sophia-hutchinson': () => sophia({ lr: 1e-4, estimator: 'hutchinson', k: 1 }),
};
// Modes are interleaved round by round (one step each, parameters reset to the checkpoint) so that load from other
// processes on the machine biases no mode in particular; the median of the timed rounds is reported.
const optimizers = Object.fromEntries(Object.entries(modes).map(([m, make]) => [m, make()]));
const seconds = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
let tokens = 0;
for (let round = 0; round < warmup + steps; round++) {
  for (const mode of Object.keys(modes)) {
    for (const [n, v] of model.params) v.assign(start.get(n));
    await new Trainer({
      model, objective: graddiff(), optimizer: optimizers[mode], data: [batch], steps: 1, seed: round,
      onStep: (e) => {
        if (round >= warmup) seconds[mode].push(e.seconds);
        tokens = e.tokens;
      },
    }).run();
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = Object.keys(modes).map((mode) => {
  optimizers[mode].dispose();
  return { mode, stepSeconds: median(seconds[mode]), minSeconds: Math.min(...seconds[mode]), tokensPerStep: tokens };
});
const base = results[0].stepSeconds;
for (const r of results) {
  r.vsAdamw = r.stepSeconds / base;
  // amortised over k = 10 steps: one estimating step + nine plain Sophia steps (≈ the AdamW step cost)
  r.amortisedK10 = r.mode === 'sophia-fisher' || r.mode === 'adamw' ? r.vsAdamw : (r.vsAdamw + 9) / 10;
}
const rowsOut = results.map((r) => ({
  optimizer: r.mode, 'median step (s)': r.stepSeconds.toFixed(3), 'min (s)': r.minSeconds.toFixed(3), '× AdamW': r.vsAdamw.toFixed(2),
  '× AdamW, k=10': r.amortisedK10.toFixed(2), 'tokens/s': Math.round(r.tokensPerStep / r.stepSeconds),
}));
console.log(`stories260K, backend ${report.backend} (${JSON.stringify(report.details)}), batch ${rows}×${seq} forget + ${rows}×${seq} retain, GradDiff, ${steps} timed rounds after ${warmup} warm-up (modes interleaved, median)`);
console.log(table(rowsOut, Object.keys(rowsOut[0])));
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', `step-time.${report.backend}.json`);
await writeJsonAtomic(out, { model: 'stories260K', backend: report.backend, details: report.details, rows, seq, steps, warmup, cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), results });
console.log(`wrote ${out}`);

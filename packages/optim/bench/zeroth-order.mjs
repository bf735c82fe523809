// Zeroth-order unlearning on stories260K (issue 8): GA and NPO with zo-sgd (MeZO) vs AdamW — does the forget NLL rise,
// and what is the peak tensor memory of a step (tf.profile's peakBytes; the model's own weights included)?
//   node packages/optim/bench/zeroth-order.mjs [--backend wasm] [--rows 8] [--seq 64] [--steps 30]
// Prints a Markdown table and writes packages/optim/bench/results/zeroth-order.<backend>.json.
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Trainer } from '@unlearn/train';
import { ga, npo, meanNll } from '@unlearn/objectives';
import { adamw, zoSgd } from '../dist/index.js';
import { flag, setup, storyBatches, table, writeJsonAtomic } from './common.mjs';

const backend = flag('backend', 'wasm');
const rows = Number(flag('rows', '8'));
const seq = Number(flag('seq', '64'));
const steps = Number(flag('steps', '30'));

const { report, model } = await setup(backend);
const batch = await storyBatches(rows, seq);
const start = new Map([...model.params].map(([n, v]) => [n, v.clone()]));
const nll = (part) => tf.tidy(() => meanNll(model.forward(part).logits, part.labels).dataSync()[0]);
const forgetNll = () => nll(batch.forget);
const retainNll = () => nll(batch.retain);
const runs = [
  ['ga', 'adamw', () => ga(), () => adamw({ lr: 1e-3, weightDecay: 0 })],
  ['ga', 'zo-sgd', () => ga(), () => zoSgd({ lr: Number(flag('zo-lr', '2e-4')), queries: 4, mu: 1e-3 })],
  ['npo', 'adamw', () => npo(), () => adamw({ lr: 1e-3, weightDecay: 0 })],
  ['npo', 'zo-sgd', () => npo(), () => zoSgd({ lr: Number(flag('zo-lr', '2e-4')), queries: 4, mu: 1e-3 })],
];
const results = [];
for (const [objectiveName, optimizerName, makeObjective, makeOptimizer] of runs) {
  for (const [n, v] of model.params) v.assign(start.get(n));
  const before = { forget: forgetNll(), retain: retainNll() };
  const optimizer = makeOptimizer();
  let seconds = 0;
  const objective = makeObjective();
  const onStep = (e) => void (seconds += e.seconds);
  await new Trainer({ model, objective, optimizer, data: [batch], steps: steps - 1, seed: 1, onStep }).run();
  // peak tensor memory of one more step (tf.profile over a whole run keeps per-kernel records and grows large)
  const profile = await tf.profile(async () => {
    await new Trainer({ model, objective, optimizer, data: [batch], steps: 1, seed: 2, onStep }).run();
    return [];
  });
  optimizer.dispose();
  const after = { forget: forgetNll(), retain: retainNll() };
  results.push({ objective: objectiveName, optimizer: optimizerName, steps, before, after, peakBytes: profile.peakBytes, stepSeconds: seconds / steps });
}
const paramBytes = [...model.params.values()].reduce((s, v) => s + v.size * 4, 0);
const rowsOut = results.map((r) => ({
  objective: r.objective, optimizer: r.optimizer, 'forget NLL before → after': `${r.before.forget.toFixed(3)} → ${r.after.forget.toFixed(3)}`,
  'retain NLL before → after': `${r.before.retain.toFixed(3)} → ${r.after.retain.toFixed(3)}`,
  'peak tensor MB': (r.peakBytes / 2 ** 20).toFixed(1), 'step (s)': r.stepSeconds.toFixed(3),
}));
console.log(`stories260K (${(paramBytes / 2 ** 20).toFixed(2)} MB of weights), backend ${report.backend}, forget/retain ${rows}×${seq}, ${steps} steps`);
console.log(table(rowsOut, Object.keys(rowsOut[0])));
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', `zeroth-order.${report.backend}.json`);
await writeJsonAtomic(out, { model: 'stories260K', backend: report.backend, rows, seq, steps, paramBytes, date: new Date().toISOString(), results });
console.log(`wrote ${out}`);

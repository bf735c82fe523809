// A user-defined objective in ~30 lines, registered by name and run with Sophia through the pipeline API.
// "Capped gradient ascent": push the forget NLL up only until it reaches `cap` nats (then its gradient is zero, so
// the model stops drifting), while the retain NLL keeps what should stay (defineObjective adds it).
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { register } from '@unlearn/core';
import { batchNll, defineObjective } from '@unlearn/objectives';
import { finetune, prepareDemoAssets, tinyLlamaConfig, unlearn } from '@unlearn/pipeline';

register('objective', 'capped-ga', ({ cap = 6, retainWeight = 1 } = {}) =>
  defineObjective({
    name: 'capped-ga',
    // minimise relu(cap − NLL_forget): ascent on the forget answers, switched off once they are unlikely enough
    forget: (model, { batch }) => tf.tidy(() => tf.relu(tf.sub(tf.scalar(cap), batchNll(model, batch.forget)))),
    retainWeight,
  }));

// Generated authors + a tiny model of our own, fine-tuned briefly, then forget one author with the new objective.
const root = path.join(os.tmpdir(), `unlearn-custom-objective-${Date.now()}`);
const { dataDir, tokenizerDir, splits } = await prepareDemoAssets(root, { authors: 4 });
const common = {
  backend: process.env.BACKEND ?? 'wasm', out: path.join(root, 'runs'),
  data: { dir: dataDir, forget: splits.forget, retain: splits.retain, maxLength: 64, extraTrain: ['real_authors', 'world_facts'] },
};
const target = await finetune({
  ...common, name: 'target', model: { tokenizer: tokenizerDir, create: tinyLlamaConfig(32, 1) },
  data: { ...common.data, train: 'full' }, training: { epochs: 30 }, optimizer: { lr: 3e-3 },
});
const run = await unlearn({
  ...common, name: 'capped-ga-sophia', model: { path: target.folder.checkpoint },
  objective: { name: 'capped-ga', options: { cap: 5 } }, optimizer: { name: 'sophia', lr: 1e-3, options: { estimator: 'gnb' } },
  training: { epochs: 3 }, eval: { maxItems: 10 },
});
console.log(`run folder: ${run.folder.dir}\nreport: ${run.report.html}\nforget quality ${run.summary.metrics.forgetQuality}, model utility ${run.summary.metrics.modelUtility}`);

// A user-defined objective in ~30 lines, registered by name and run with Sophia through the unlearn pipeline.
// "Capped gradient ascent": push the forget NLL up only until it reaches `cap` nats (then its gradient is zero, so
// the model stops drifting), while the retain NLL keeps what should stay (defineObjective adds it).
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { register } from '@unlearn/core';
import { batchNll, defineObjective } from '@unlearn/objectives';
import { main, prepareDemoAssets, tinyLlamaConfig } from '@unlearn/cli';

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
const data = ['--data-dir', dataDir, '--data-forget', splits.forget, '--data-retain', splits.retain, '--data-max-length', '64', '--data-extra-train', 'real_authors,world_facts'];
const common = ['--backend', process.env.BACKEND ?? 'wasm', '--out', path.join(root, 'runs'), ...data];
const cfg = path.join(root, 'finetune.json');
await import('node:fs/promises').then((fs) => fs.writeFile(cfg, JSON.stringify({ model: { tokenizer: tokenizerDir, create: tinyLlamaConfig(32, 1) } })));
let code = await main(['finetune', '--config', cfg, '--name', 'target', '--data-train', 'full', '--training-epochs', '30', '--optimizer-lr', '3e-3', ...common]);
if (code === 0) {
  code = await main(['unlearn', '--name', 'capped-ga-sophia', '--model-path', path.join(root, 'runs/target/checkpoint'),
    '--objective-name', 'capped-ga', '--objective-options', 'cap=5', '--optimizer-name', 'sophia', '--optimizer-options', 'estimator=gnb',
    '--optimizer-lr', '1e-3', '--training-epochs', '3', '--eval-max-items', '10', ...common]);
}
process.exitCode = code;

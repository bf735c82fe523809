// Run by plain-node-smoke.test.ts as `node plain-node-smoke.mjs <tensors dist> <core dist> <model.safetensors>`:
// proves the BUILT packages load and train in plain Node (no vitest, no bundler). Prints one JSON line.
import { pathToFileURL } from 'node:url';

const [tensorsDist, coreDist, safetensorsFile] = process.argv.slice(2);
const tensors = await import(pathToFileURL(tensorsDist).href);
const core = await import(pathToFileURL(coreDist).href);
const tf = await import('@tensorflow/tfjs-core');

const report = await tensors.initBackend('wasm');
const before = tf.memory().numTensors;
// Embedding gather (duplicate id 0) then the transpose-free matmul; loss = Σ (E[ids] · W)².
const table = tf.tidy(() => tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), true, 'table'));
const weight = tf.tidy(() => tf.variable(tf.tensor2d([[1], [-1]]), true, 'weight'));
const ids = tf.tensor1d([0, 2, 0], 'int32');
const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tensors.matmul(tf.gather(table, ids), weight))));
const result = {
  backend: tf.getBackend(),
  reason: report.reason,
  loss: (await value.data())[0],
  dTable: Array.from(await grads.table.data()),
  dWeight: Array.from(await grads.weight.data()),
};
tf.dispose([value, grads.table, grads.weight, ids, table, weight]);
result.leaked = tf.memory().numTensors - before;

const checkpoint = await tensors.readSafetensors(safetensorsFile);
result.safetensors = {
  count: checkpoint.tensors.size,
  embedShape: checkpoint.tensors.get('model.embed_tokens.weight').shape,
  metadata: checkpoint.metadata,
};
checkpoint.tensors.forEach((t) => t.dispose());
result.core = { specificationVersion: core.specificationVersion, exports: Object.keys(core).sort() };
console.log(JSON.stringify(result));

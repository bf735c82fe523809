// The three products of a linear layer on the native backend, at the 110M Llama's shapes (128 tokens): forward x·Wᵀ,
// input gradient dy·W, weight gradient dyᵀ·x (tfjs's MatMul gradient: transposeA with the short token axis as the
// inner dimension). Shows where a full fine-tuning backward goes that frozen-weight training skips.
// Usage (after `pnpm build`): node bench/scale/matmul.mjs   Env: THREADS (default 1), TOKENS (default 128).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const load = (p) => import(pathToFileURL(path.join(repo, 'packages', p, 'dist/index.js')).href);
const [tensors, native] = await Promise.all([load('tensors'), load('backend-native')]);
const tf = createRequire(path.join(repo, 'packages/tensors/package.json'))('@tensorflow/tfjs-core');
const threads = Number(process.env.THREADS || 1);
const T = Number(process.env.TOKENS || 128);
native.registerNativeBackend({ threads });
await tensors.initBackend('native');
const time = (f, n = 5) => {
  f().dispose();
  const s = performance.now();
  for (let k = 0; k < n; k++) {
    const r = f();
    r.dataSync();
    r.dispose();
  }
  return (performance.now() - s) / n;
};
console.log(`native backend, ${threads} thread(s), ${T} tokens; ms per product (GFLOP/s)`);
console.log('| W [out, in] | forward x·Wᵀ | input grad dy·W | weight grad dyᵀ·x |\n|---|---|---|---|');
for (const [o, i] of [[768, 768], [2048, 768], [768, 2048], [32000, 768]]) {
  const x = tf.randomNormal([T, i]), w = tf.randomNormal([o, i]), dy = tf.randomNormal([T, o]);
  const gf = (2 * T * o * i) / 1e9;
  const cell = (ms) => `${ms.toFixed(1)} (${(gf / ms * 1e3).toFixed(0)})`;
  const fwd = time(() => tf.matMul(x, w, false, true)), dx = time(() => tf.matMul(dy, w)), dw = time(() => tf.matMul(dy, x, true, false));
  console.log(`| ${o}×${i} | ${cell(fwd)} | ${cell(dx)} | ${cell(dw)} |`);
  tf.dispose([x, w, dy]);
}

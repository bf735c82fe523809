// Shared setup of the optim benchmarks: stories260K (../shared/models) on a chosen backend, TinyStories batches
// (../shared/data/corpora) tokenized with the model's own tokenizer. Needs the packages built (pnpm build).
import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@unlearn/tensors';
import { loadModel, loadTokenizer } from '@unlearn/models';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const STORIES = path.resolve(repoRoot, '../shared/models/stories260K');
const CORPUS = path.resolve(repoRoot, '../shared/data/corpora/tinystories_sample.txt');

export function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Token batches of `rows` × `seq` from consecutive stories: [forget, retain] parts, all tokens carrying loss. */
export async function storyBatches(rows, seq) {
  const tokenizer = await loadTokenizer(STORIES);
  const stories = (await readFile(CORPUS, 'utf8')).split('\n').filter((s) => s.length > 200);
  const encoded = await tokenizer.encodeBatch(stories.slice(0, 4 * rows));
  const take = (from) => encoded.slice(from, from + rows).map((ids) => ids.slice(0, seq));
  const part = (rowsIds) => {
    const width = Math.min(...rowsIds.map((r) => r.length));
    const ids = rowsIds.map((r) => r.slice(0, width));
    return {
      inputIds: tf.tensor2d(ids, undefined, 'int32'),
      attentionMask: tf.tensor2d(ids.map((r) => r.map(() => 1)), undefined, 'int32'),
      labels: tf.tensor2d(ids, undefined, 'int32'),
    };
  };
  return { forget: part(take(0)), retain: part(take(rows)) };
}

export async function setup(backend) {
  const report = await initBackend(backend);
  const model = await loadModel(STORIES);
  return { report, model };
}

export async function writeJsonAtomic(file, value) {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, file);
}

export function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  return [line(columns), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map((r) => line(columns.map((c) => r[c])))].join('\n');
}
